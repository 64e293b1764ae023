#include "sdnc/train/adamw.h"

#include <cmath>

#include "sdnc/core/parallel.h"

namespace sdnc::train {

namespace {
void check_range(const char* what, double value, double lo, double hi, bool hi_open) {
  if (!(value >= lo) || (hi_open ? !(value < hi) : !(value <= hi)))
    fail("adamw", "{} = {} is outside [{}, {}{}", what, value, lo, hi, hi_open ? ")" : "]");
}
constexpr double kInf = INFINITY;

// One step's scalars, as torch computes them (Python floats), in the parameter's dtype.
template <class T> struct Update {
  T decay, b1, b2, c1, c2, eps, bc2_sqrt, neg_step;
};

// n elements of a parameter p, its gradient g and moments m, v (distinct arrays: the
// restrict-qualified locals let the loop vectorise; a lambda's captured references did not).
template <class T>
void update_range(const Update<T> u, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                  int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T x = p[j] * u.decay, gj = g[j];
    const T mj = m[j] * u.b1 + gj * u.c1;
    const T vj = v[j] * u.b2 + gj * gj * u.c2;
    m[j] = mj;
    v[j] = vj;
    p[j] = x + u.neg_step * (mj / (std::sqrt(vj) / u.bc2_sqrt + u.eps));
  }
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : params_(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
  check_range("lr", lr, 0.0, kInf, false);
  check_range("beta1", beta1, 0.0, 1.0, true);
  check_range("beta2", beta2, 0.0, 1.0, true);
  check_range("eps", eps, 0.0, kInf, false);
  check_range("weight_decay", weight_decay, 0.0, kInf, false);
  state_.reserve(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (!p.defined()) fail("adamw", "parameter {} is undefined", i);
    if (p.dtype() != DType::F32 && p.dtype() != DType::F64)
      fail("adamw", "parameter {} is {}, not a floating tensor", i, dtype_name(p.dtype()));
    check_cpu("adamw", p);
    state_.push_back({Tensor::zeros(p.shape(), p.dtype()), Tensor::zeros(p.shape(), p.dtype()), 0});
  }
}

void AdamW::set_lr(double lr) {
  check_range("lr", lr, 0.0, kInf, false);
  lr_ = lr;
}

void AdamW::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (g.shape() != p.shape() || g.dtype() != p.dtype())
      fail("adamw", "parameter {} {} {} has a gradient {} {}", i, dtype_name(p.dtype()), shape_str(p.shape()),
           dtype_name(g.dtype()), shape_str(g.shape()));
    ParamState& s = state_[i];
    s.step += 1;
    // Scalars as torch computes them (Python floats), then used in the parameter's dtype.
    const double decay = 1.0 - lr_ * weight_decay_;
    const double bias_correction1 = 1.0 - std::pow(beta1_, static_cast<double>(s.step));
    const double bias_correction2 = 1.0 - std::pow(beta2_, static_cast<double>(s.step));
    const double step_size = lr_ / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    dispatch_floating(p.dtype(), "adamw", [&](auto tag) {
      using T = decltype(tag);
      const Update<T> u{static_cast<T>(decay),         static_cast<T>(beta1_),       static_cast<T>(beta2_),
                        static_cast<T>(1.0 - beta1_),  static_cast<T>(1.0 - beta2_), static_cast<T>(eps_),
                        static_cast<T>(bias_correction2_sqrt), static_cast<T>(-step_size)};
      T* pp = p.data<T>();
      const T* pg = g.data<T>();
      T* pm = s.exp_avg.data<T>();
      T* pv = s.exp_avg_sq.data<T>();
      parallel_for(p.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        update_range(u, pp + begin, pg + begin, pm + begin, pv + begin, end - begin);
      });
    });
  }
}

void AdamW::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

}  // namespace sdnc::train

namespace sdnc::train {

std::map<std::string, Tensor> AdamW::state_tensors(const std::vector<std::string>& names) const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out[names.at(i) + ".exp_avg"] = state_[i].exp_avg;
    out[names.at(i) + ".exp_avg_sq"] = state_[i].exp_avg_sq;
    out[names.at(i) + ".step"] = Tensor::from_indices({state_[i].step}, {});
  }
  return out;
}

void AdamW::load_state_tensors(const std::map<std::string, Tensor>& state, const std::vector<std::string>& names) {
  Tensor step_like = Tensor::from_indices({0}, {});
  for (size_t i = 0; i < params_.size(); ++i) {  // validate everything first
    find_state(state, names.at(i) + ".exp_avg", params_[i]);
    find_state(state, names.at(i) + ".exp_avg_sq", params_[i]);
    find_state(state, names.at(i) + ".step", step_like);
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    copy_into(state_[i].exp_avg, state.at(names[i] + ".exp_avg"));
    copy_into(state_[i].exp_avg_sq, state.at(names[i] + ".exp_avg_sq"));
    state_[i].step = state.at(names[i] + ".step").data<int64_t>()[0];
  }
}

}  // namespace sdnc::train
