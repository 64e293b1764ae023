// adamw.h — AdamW (Loshchilov & Hutter), with exactly torch.optim.AdamW's update
// (amsgrad=False, maximize=False). Per parameter p with gradient g, at its step t:
//   p   ← p · (1 − lr·weight_decay)                      (decoupled weight decay)
//   m   ← β1·m + (1 − β1)·g
//   v   ← β2·v + (1 − β2)·g²
//   p   ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
// One fused pass per parameter (split over the threads with parallel_for). A parameter
// without a gradient (.grad undefined) is skipped and its step count does not advance, as
// in PyTorch. F32 and F64 parameters; the state has the parameter's dtype.
#pragma once
#include <cstdint>
#include <vector>

#include "sdnc/train/optimizer.h"

namespace sdnc::train {

class AdamW : public Optimizer {
 public:
  // The moments start at zero. Throws "[adamw] ..." for an undefined or non-floating
  // parameter or a hyper-parameter outside its range (lr, eps, weight_decay >= 0,
  // betas in [0, 1)).
  AdamW(std::vector<Tensor> params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0.01);

  // One update of every parameter that has a gradient.
  void step() override;
  // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad() override;

  // State, per parameter in constructor order (for checkpoints): first and second moment
  // (same shape and dtype as the parameter) and the number of updates applied so far.
  struct ParamState {
    Tensor exp_avg, exp_avg_sq;
    int64_t step = 0;
  };
  const std::vector<Tensor>& params() const { return params_; }
  std::vector<ParamState>& state() { return state_; }
  const std::vector<ParamState>& state() const { return state_; }

  double lr() const override { return lr_; }
  void set_lr(double lr) override;
  // "{name}.exp_avg", "{name}.exp_avg_sq", "{name}.step" (I64 0-dim) per parameter.
  std::map<std::string, Tensor> state_tensors(const std::vector<std::string>& names) const override;
  void load_state_tensors(const std::map<std::string, Tensor>& state, const std::vector<std::string>& names) override;
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

 private:
  std::vector<Tensor> params_;
  std::vector<ParamState> state_;
  double lr_, beta1_, beta2_, eps_, weight_decay_;
};

}  // namespace sdnc::train
