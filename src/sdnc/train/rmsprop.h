// rmsprop.h — RMSProp in the two forms users reproduce results with. Per parameter p with
// gradient g:
//   Torch (torch.optim.RMSprop, centered=False): v starts at 0
//       v ← α·v + (1 − α)·g²
//       momentum μ = 0:  p ← p − lr · g / (√v + ε)
//       momentum μ > 0:  buf ← μ·buf + g / (√v + ε);  p ← p − lr·buf
//   TF1 (tf.compat.v1.train.RMSPropOptimizer, the optimizer of DeepMind's DNC training,
//       /work/shared/DNC.md A.11): the mean square ms starts at 1.0 and ε sits inside the root
//       ms ← ρ·ms + (1 − ρ)·g²;  mom ← μ·mom + lr · g / √(ms + ε);  p ← p − mom
// Typical settings: Torch α = 0.99, ε = 1e-8; TF1 ρ = 0.9, μ = 0, ε = 1e-10 (DeepMind:
// lr 1e-4). A parameter without a gradient is skipped. F32 and F64.
#pragma once
#include <vector>

#include "sdnc/train/optimizer.h"

namespace sdnc::train {

enum class RmsPropVariant { Torch, TF1 };

class RmsProp : public Optimizer {
 public:
  // Throws "[rmsprop] ..." for a hyper-parameter outside its range (lr, eps, momentum ≥ 0,
  // decay in [0, 1)) or a non-floating parameter.
  RmsProp(std::vector<Tensor> params, double lr, RmsPropVariant variant, double decay, double eps,
          double momentum = 0.0);
  void step() override;
  void zero_grad() override;
  double lr() const override { return lr_; }
  void set_lr(double lr) override;
  std::map<std::string, Tensor> state_tensors(const std::vector<std::string>& names) const override;
  void load_state_tensors(const std::map<std::string, Tensor>& state, const std::vector<std::string>& names) override;

  struct ParamState {
    Tensor square_avg;  // v (Torch) or ms (TF1)
    Tensor momentum;    // buf (Torch, μ > 0) or mom (TF1)
  };
  const std::vector<ParamState>& state() const { return state_; }

 private:
  std::vector<Tensor> params_;
  std::vector<ParamState> state_;
  double lr_;
  RmsPropVariant variant_;
  double decay_, eps_, momentum_;
};

}  // namespace sdnc::train
