// stateless_controller.h — the controller of an sDNC layer: a feed-forward function of the
// current input only (no recurrent state, no feedback of last step's reads).
//
// Its parts: LayerNorms, the interface projection that emits per-head read keys q, write
// keys k and write vectors v, the read-out projection Wo applied to the read words, and the
// feed-forward network (the controller's output network), joined by residuals, with
// LayerNorm before (pre-LN, GPT-2) or after (post-LN, torch.nn.Transformer default) each
// sublayer.
//
// Parameter names follow the checkpoint family:
//   GPT2  : ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj  (Conv1D [in, out])
//   Torch : self_attn.{in_proj_weight, in_proj_bias, out_proj}, [multihead_attn.*],
//           linear1, linear2, norm1, norm2[, norm3]                      (Linear [out, in])
#pragma once
#include <memory>

#include "sdnc/nn/layers.h"

namespace sdnc::controllers {

// SwiGlu is gated: the FFN's first projection makes [gate ; up] (2F rows) and the hidden
// layer is silu(gate) · up (Shazeer 2020; Llama's MLP).
enum class Activation { Relu, Gelu, GeluTanh, SwiGlu };
enum class ParamNaming { GPT2, Torch };

// "relu" | "gelu" (erf) | "gelu_new"/"gelu_tanh" | "swiglu"
Activation parse_activation(const std::string& name);
// The hidden layer from the first projection h: [..., F] (swiglu: [..., 2F]) → [..., F].
Tensor activate(Activation a, const Tensor& h);

struct ControllerConfig {
  int64_t d_model = 0, n_heads = 0, d_ffn = 0;
  Activation activation = Activation::Relu;
  bool norm_first = false;  // pre-LN
  double ln_eps = 1e-5;
  ParamNaming naming = ParamNaming::Torch;
  bool cross = false;       // a decoder layer: also reads another sDNC's memory
};

// The interface and read-out projections of one set of read heads.
class HeadProjections : public nn::Module {
 public:
  HeadProjections(int64_t d_model, ParamNaming naming);
  // Part 0 = read keys q, 1 = write keys k, 2 = write vectors v: [B, T, D] each.
  Tensor project(const Tensor& a, int64_t first_part, int64_t num_parts) const;
  Tensor read_out(const Tensor& reads) const;  // [B, T, D] → [B, T, D]
  void init_uniform(Generator& g);
  const nn::Linear& interface_projection() const { return *in_; }  // D → 3D (q, k, v)
  const nn::Linear& read_out_projection() const { return *out_; }  // D → D

 private:
  int64_t d_model_;
  std::shared_ptr<nn::Linear> in_, out_;
};

class FeedForward : public nn::Module {
 public:
  // bias: whether both projections have one. SwiGlu's up() makes 2F rows: [gate ; up].
  FeedForward(int64_t d_model, int64_t d_ffn, Activation act, ParamNaming naming, bool bias = true);
  Tensor forward(const Tensor& x) const;
  void init_uniform(Generator& g);
  Activation activation() const { return act_; }
  const nn::Linear& up() const { return *up_; }      // D → F (swiglu: D → 2F)
  const nn::Linear& down() const { return *down_; }  // F → D

 private:
  Activation act_;
  std::shared_ptr<nn::Linear> up_, down_;
};

class StatelessController : public nn::Module {
 public:
  explicit StatelessController(const ControllerConfig& config);
  const ControllerConfig& config() const { return config_; }

  std::shared_ptr<HeadProjections> self_heads, cross_heads;  // cross_heads only when config.cross
  std::shared_ptr<FeedForward> ffn;
  std::shared_ptr<nn::LayerNorm> norm_self, norm_cross, norm_ffn;

  // Random initialisation: PyTorch's defaults (uniform ±1/√fan_in, LayerNorm 1/0).
  void init_uniform(Generator& g);

 private:
  ControllerConfig config_;
};

}  // namespace sdnc::controllers
