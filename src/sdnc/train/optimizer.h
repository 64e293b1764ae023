// optimizer.h — what the trainer needs from an optimizer: an update from the parameters'
// gradients, a settable learning rate, and its state as named tensors for checkpoints
// ("{param_name}.{slot}", e.g. "controller.weight_ih.exp_avg"; step counts as I64 0-dim).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  virtual void zero_grad() = 0;
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // names[i] names parameter i (the constructor's order).
  virtual std::map<std::string, Tensor> state_tensors(const std::vector<std::string>& names) const = 0;
  // Restores what state_tensors wrote; throws "[optimizer] ..." naming a missing or mis-shaped
  // tensor (nothing is changed then).
  virtual void load_state_tensors(const std::map<std::string, Tensor>& state, const std::vector<std::string>& names) = 0;
};

// Shared by the optimizers: looks up "{name}.{slot}" with the parameter's shape and dtype.
const Tensor& find_state(const std::map<std::string, Tensor>& state, const std::string& key, const Tensor& like);
// Copies src's values into dst (same shape and dtype).
void copy_into(Tensor& dst, const Tensor& src);

}  // namespace sdnc::train
