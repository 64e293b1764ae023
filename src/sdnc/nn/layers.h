// layers.h — the small modules every model is built from: Linear (PyTorch [out, in] layout
// or GPT-2's Conv1D [in, out] layout), the normalisations (LayerNorm, RmsNorm), Embedding.
#pragma once
#include "sdnc/nn/module.h"

namespace sdnc::cpu {
struct PackedWeight;  // backend/cpu/packed_gemm.h
}

namespace sdnc::nn {

enum class WeightLayout { Linear, Conv1D };  // [out, in] | [in, out]

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, WeightLayout layout = WeightLayout::Linear,
         const std::string& weight_name = "weight", const std::string& bias_name = "bias");
  Tensor forward(const Tensor& x) const;  // [..., in] → [..., out]
  // Only output features [begin, end) (e.g. the query part of a fused QKV projection).
  Tensor forward_part(const Tensor& x, int64_t begin, int64_t end) const;
  // PyTorch's default: U(−1/√in, 1/√in) for weight and bias.
  void init_uniform(Generator& g);
  // GPT-2's: weight ~ N(0, std), bias = 0.
  void init_normal(Generator& g, double stddev);
  // Packs the weight once (backend/cpu/packed_gemm.h) when it is F32 in the Linear layout and
  // the CPU runs the packed kernel (else nothing changes); forward() then runs packed_linear
  // for F32 inputs of at most kPackedRows rows while no gradient is recorded. off: drops it.
  void pack_for_inference(bool on = true) override;

  int64_t in, out;
  WeightLayout layout;
  Tensor weight, bias;
  std::shared_ptr<const cpu::PackedWeight> packed;  // the weight's panels, or null

 private:
  const float* packed_from_ = nullptr;  // the weight storage packed (a replaced weight is not used packed)
};

// A normalisation of the last dim with a learned gain (LayerNorm or RmsNorm).
class Norm : public Module {
 public:
  virtual Tensor forward(const Tensor& x) const = 0;  // [..., dim] → [..., dim]
  Tensor weight;                                      // [dim] the gain
};

// (x − mean) / sqrt(var + eps) · weight + bias (torch.nn.LayerNorm).
class LayerNorm : public Norm {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const override;
  double eps;
  Tensor bias;
};

// x / sqrt(mean(x²) + eps) · weight, no centring and no bias (Llama's RMSNorm; Zhang &
// Sennrich 2019). Composed from simple ops (autograd through them).
class RmsNorm : public Norm {
 public:
  explicit RmsNorm(int64_t dim, double eps = 1e-6);
  Tensor forward(const Tensor& x) const override;
  double eps;
};

class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim);
  Tensor forward(const Tensor& idx) const;  // I64 [...] → [..., dim]
  void init_normal(Generator& g, double stddev);
  Tensor weight;
};

}  // namespace sdnc::nn
