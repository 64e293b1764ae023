#include "sdnc/train/rmsprop.h"

#include <cmath>

#include "sdnc/core/parallel.h"

namespace sdnc::train {

namespace {
void check_non_negative(const char* what, double v) {
  if (!(v >= 0.0) || !std::isfinite(v)) fail("rmsprop", "{} = {} must be a finite number >= 0", what, v);
}
}  // namespace

RmsProp::RmsProp(std::vector<Tensor> params, double lr, RmsPropVariant variant, double decay, double eps,
                 double momentum)
    : params_(std::move(params)), lr_(lr), variant_(variant), decay_(decay), eps_(eps), momentum_(momentum) {
  check_non_negative("lr", lr);
  check_non_negative("eps", eps);
  check_non_negative("momentum", momentum);
  if (!(decay >= 0.0 && decay < 1.0)) fail("rmsprop", "decay = {} is outside [0, 1)", decay);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (!p.defined() || (p.dtype() != DType::F32 && p.dtype() != DType::F64))
      fail("rmsprop", "parameter {} is not a floating tensor", i);
    double start = variant == RmsPropVariant::TF1 ? 1.0 : 0.0;
    state_.push_back({Tensor::full(p.shape(), start, p.dtype()), Tensor::zeros(p.shape(), p.dtype())});
  }
}

void RmsProp::set_lr(double lr) {
  check_non_negative("lr", lr);
  lr_ = lr;
}

void RmsProp::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

void RmsProp::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    ParamState& s = state_[i];
    dispatch_floating(p.dtype(), "rmsprop", [&](auto tag) {
      using T = decltype(tag);
      T* pp = p.data<T>();
      const T* pg = g.data<T>();
      T* pv = s.square_avg.data<T>();
      T* pb = s.momentum.data<T>();
      const T a = static_cast<T>(decay_), c = static_cast<T>(1.0 - decay_), e = static_cast<T>(eps_);
      const T mu = static_cast<T>(momentum_), lr = static_cast<T>(lr_);
      const bool tf1 = variant_ == RmsPropVariant::TF1, with_momentum = momentum_ > 0.0;
      parallel_for(p.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          T gj = pg[j];
          T v = pv[j] * a + gj * gj * c;
          pv[j] = v;
          if (tf1) {
            T m = mu * pb[j] + lr * gj / std::sqrt(v + e);
            pb[j] = m;
            pp[j] -= m;
          } else if (with_momentum) {
            T buf = pb[j] * mu + gj / (std::sqrt(v) + e);
            pb[j] = buf;
            pp[j] -= lr * buf;
          } else {
            pp[j] -= lr * (gj / (std::sqrt(v) + e));
          }
        }
      });
    });
  }
}

std::map<std::string, Tensor> RmsProp::state_tensors(const std::vector<std::string>& names) const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out[names.at(i) + ".square_avg"] = state_[i].square_avg;
    out[names.at(i) + ".momentum"] = state_[i].momentum;
  }
  return out;
}

void RmsProp::load_state_tensors(const std::map<std::string, Tensor>& state, const std::vector<std::string>& names) {
  for (size_t i = 0; i < params_.size(); ++i) {  // validate everything first
    find_state(state, names.at(i) + ".square_avg", params_[i]);
    find_state(state, names.at(i) + ".momentum", params_[i]);
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    copy_into(state_[i].square_avg, state.at(names[i] + ".square_avg"));
    copy_into(state_[i].momentum, state.at(names[i] + ".momentum"));
  }
}

}  // namespace sdnc::train
