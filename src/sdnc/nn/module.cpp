#include "sdnc/nn/module.h"

#include <cmath>
#include <set>

namespace sdnc::nn {

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  // A child registered under "" adds its parameters without a prefix of its own.
  for (auto& [name, child] : children_) child->collect(name.empty() ? prefix : prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool allow_unexpected) {
  const char* op = "load_state_dict";
  auto params = named_parameters();
  std::set<std::string> known;
  // Validate everything first so that an error leaves the model untouched.
  for (auto& [name, p] : params) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) fail(op, "missing tensor '{}' (shape {})", name, shape_str(p.shape()));
    if (it->second.shape() != p.shape())
      fail(op, "tensor '{}' has shape {}, the model expects {}", name, shape_str(it->second.shape()),
           shape_str(p.shape()));
    if (!is_floating(it->second.dtype()))
      fail(op, "tensor '{}' has dtype {}, expected a floating type", name, dtype_name(it->second.dtype()));
    // A NaN or infinite weight makes every output NaN without a word: refuse it by name.
    const Tensor& t = it->second;
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v = t.dtype() == DType::F32 ? static_cast<double>(t.data<float>()[i]) : t.data<double>()[i];
      if (!std::isfinite(v))
        fail(op, "tensor '{}' holds a non-finite value ({} at flat index {})", name, v, i);
    }
  }
  if (!allow_unexpected)
    for (auto& [name, t] : state)
      if (!known.count(name)) fail(op, "unexpected tensor '{}' (shape {})", name, shape_str(t.shape()));
  pack_for_inference(false);  // packed copies of the old weights
  for (auto& [name, p] : params) {
    const Tensor& src = state.at(name);
    Tensor dst = p;
    dst.copy_from(src.dtype() == p.dtype() ? src : src.to(p.dtype()));
  }
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) {
    Tensor h = t;
    h.zero_grad();
  }
}

void Module::pack_for_inference(bool on) {
  for (auto& [name, child] : children_) child->pack_for_inference(on);
}

void Module::to(DType dtype) {
  pack_for_inference(false);
  for (auto& [name, t] : named_parameters()) {
    if (t.dtype() == dtype) continue;
    Tensor converted = t.to(dtype);
    TensorImpl& impl = t.impl();
    impl.storage = converted.impl().storage;
    impl.offset = converted.impl().offset;
    impl.dtype = dtype;
    impl.grad.reset();
  }
}

void Module::set_training(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->set_training(on);
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  value.requires_grad_(true);
  params_.emplace_back(name, value);
  return value;
}

}  // namespace sdnc::nn
