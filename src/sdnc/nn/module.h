// module.h — a tree of named parameters. Names are joined with '.', so a model's
// parameter names are exactly the keys of its checkpoint (PyTorch `state_dict` style:
// "h.0.attn.c_attn.weight", "encoder.layers.0.self_attn.in_proj_weight").
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sdnc/core/rng.h"
#include "sdnc/core/tensor.h"

namespace sdnc::nn {

class Module {
 public:
  virtual ~Module() = default;

  // All parameters of this module and its children, in registration order, with full names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;

  // name → parameter handle (aliases the parameters; writing into them changes the model).
  std::map<std::string, Tensor> state_dict() const;

  // Copies every tensor of `state` into the parameter of the same name. Throws
  // "[load_state_dict] ..." naming the first missing, unexpected or mis-shaped tensor;
  // on error no parameter has been changed. Converts dtype (e.g. F64 → F32) if needed.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool allow_unexpected = false);

  void zero_grad();
  // Converts every parameter to dtype in place (the handles stay valid; gradients are dropped),
  // e.g. to F64 for finite-difference checks.
  void to(DType dtype);
  void set_training(bool on);
  bool training() const { return training_; }

  // For inference on frozen weights: every Linear below packs its weight for the small-row
  // product (nn::Linear::pack_for_inference); off drops the copies. The copies do not follow
  // later changes to the weights: load_state_dict and to() drop them; after an optimizer step
  // call this again.
  virtual void pack_for_inference(bool on = true);

 protected:
  // Registers a parameter (requires grad) and returns its handle.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    children_.emplace_back(name, child);
    return child;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace sdnc::nn
