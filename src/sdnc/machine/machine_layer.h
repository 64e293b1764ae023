// machine_layer.h — one memory machine: a controller, its interface, a write head, a memory
// and R read heads, run in the step order controller → write → read → output. The dials
// choose the parts (machine_config.h); this file owns the order and both execution forms.
//
// Stateless controller (D wide, pre-LN shown; post-LN moves each norm after its add; the norm
// is LayerNorm or RMSNorm, the FFN's hidden layer relu | gelu | gelu_tanh | swiglu):
//   a = LN1(x_t);  interface = project(a);  write;  r_t = read
//   y = x_t + W_o·flatten(r_t);  z = y + FFN(LN2(y))                      → z  [B, D]
// causal=false (bidirectional, an encoder): every position's slot is written before any
// position reads, and reads see every slot (minus padding) — no step form.
// Recurrent controller (lstm | feedforward, DNC.md A.1):
//   χ = [x_t ; flatten(r_{t−1})];  o = clip(LSTM(χ));  interface = project(o);  write;  r_t = read
//                                                                         → [o ; flatten(r_t)]  [B, h + R·W]
// Parameter names: stateless — self_attn.{in_proj_weight, in_proj_bias, out_proj.*}
// (torch.nn.MultiheadAttention's; in_proj rows = [Q ; K ; V]), linear1, linear2, norm1, norm2,
// then access.* (the interface parts a Transformer lacks); with naming GPT2 (models/gpt2.h) GPT-2's
// ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj (Conv1D [in, out]); recurrent — controller.{weight_ih,
// weight_hh, bias}, access.* (DeepMind's part names).
// Legend: B batch, T time, D model width, h controller size, R read heads, W word size.
#pragma once
#include <functional>
#include <memory>

#include "sdnc/controllers/recurrent_controller.h"
#include "sdnc/controllers/stateless_controller.h"
#include "sdnc/machine/interface.h"
#include "sdnc/machine/memory_state.h"

namespace sdnc::machine {

struct LayerState {
  MemoryState memory;
  Tensor hidden;            // [B, 1, n] −1e30 at padded slots (a causal memory's padding); may be undefined
  MemoryState cross;        // cross_reads: the other machine's memory (keys, values [B, S, S·W])
  Tensor cross_bias;        // [B, 1, S] −1e30 at its padded slots; may be undefined
  Tensor reads;                             // [B, R, W] r_{t−1}, zeros at the start
  controllers::ControllerState controller;  // LSTM h, c [B, h]
};

// What one step shows (the trace), [B, ...] each; undefined where the corner has no such part.
struct StepRecord {
  Tensor read_weights, write_weights, usage, read_words, keys, values, link, precedence, read_modes;
  Tensor cross_read_weights;  // [B, R, S] (cross_reads)
};

// The memory another machine wrote, for a layer with cross_reads: its output [B, S, D] and
// padding [B, S] (nonzero: never read; may be undefined).
struct CrossSource {
  Tensor memory, padding;
};

// A stateless controller's fused read/write projection and read-out, named as
// torch.nn.MultiheadAttention's: in_proj_weight [Q, D], in_proj_bias [Q], out_proj [D, R·W].
class QkvProjection : public nn::Module {
 public:
  // naming GPT2: c_attn [D, Q] and c_proj [R·W, D], Conv1D [in, out] (GPT-2's attn.*).
  QkvProjection(int64_t d_model, int64_t qkv_rows, int64_t read_width, bool bias = true,
                controllers::ParamNaming naming = controllers::ParamNaming::Torch);
  std::shared_ptr<nn::Linear> in_proj, out_proj;
};

// The config's normalisation (LayerNorm | RMSNorm) over dim, with eps layer_norm_eps.
std::shared_ptr<nn::Norm> make_norm(const MachineConfig& config, int64_t dim);

class MachineLayer : public nn::Module {
 public:
  MachineLayer(const MachineConfig& config, int64_t input_width);
  const MachineConfig& config() const { return c_; }
  int64_t input_width() const { return in_; }
  int64_t output_width() const;  // stateless: D; recurrent: h + R·W

  LayerState initial_state(int64_t batch, DType dtype) const;

  // Recurrent form, one step at position t: x [B, input_width] → [B, output_width];
  // *state advances. fused: fused_interface() for the fused DNC access node (DNC access only),
  // nullptr for the composed parts. rec (optional) receives the step's parts.
  // pad (optional) [B] nonzero: this position is padding — its slot is never read.
  Tensor step(const Tensor& x, int64_t t, LayerState& state, const InterfaceProjection::Fused* fused,
              StepRecord* rec, const Tensor& pad = Tensor()) const;

  // Chunk form (config().has_chunk_form()): n new positions t.., x [B, n, D] → [B, n, D] in
  // one parallel pass: their n slots appended to the memory (in place without autograd at
  // B = 1), each position reading every earlier slot and its own. The same numbers as n
  // steps (to rounding); the memory's read and write weights are left undefined.
  Tensor extend(const Tensor& x, int64_t t, LayerState& state) const;

  // cross_reads: writes state's cross memory once from the other machine's output.
  void write_cross(const CrossSource& source, LayerState& state) const;

  // Parallel form (config().has_parallel_form()): x [B, T, D] → [B, T, D], every position at
  // once; read_weights (optional) ← [B, T, R, T]. padding [B, T] (nonzero: a padded position,
  // never read; may be undefined).
  Tensor forward_parallel(const Tensor& x, Tensor* read_weights, const Tensor& padding = Tensor(),
                          const CrossSource* cross = nullptr, Tensor* cross_read_weights = nullptr) const;

  // The recurrent form of a bidirectional layer (causal=false): x [B, T, D] → [B, T, D]; the
  // slots of positions 0..T−1 are written one step at a time, then each position reads them
  // all. records (optional) ← one StepRecord per position (its reads of the full memory).
  Tensor forward_bidirectional_steps(const Tensor& x, const Tensor& padding, std::vector<StepRecord>* records) const;

  InterfaceProjection::Fused fused_interface() const { return access->fused(); }

  // Stateless: PyTorch's defaults (as SequenceSdnc); recurrent: Sonnet's (as the DNC).
  void init(Generator& g);

  std::shared_ptr<controllers::RecurrentController> controller;  // recurrent
  std::shared_ptr<QkvProjection> self_attn;                      // stateless
  std::shared_ptr<controllers::FeedForward> ffn;                 // stateless
  std::shared_ptr<nn::Norm> norm1, norm2;                        // stateless: self, FFN ("norm3" with cross)
  std::shared_ptr<QkvProjection> cross_attn;                     // cross_reads: "multihead_attn"
  std::shared_ptr<nn::Norm> norm_cross;                          // cross_reads: "norm2"
  std::shared_ptr<InterfaceProjection> access;

 private:
  // The memory access of one step from the interface input a [B, in]: write, then read.
  Tensor access_step(const Tensor& a, int64_t t, LayerState& state, const InterfaceProjection::Fused* fused,
                     StepRecord* rec) const;
  // Stateless: x [B, n, D] and its reads merged [B, n, R·W] → the layer's output [B, n, D]
  // (read-out, residual, FFN, norms where norm_first puts them).
  // cross (cross_reads): the normalised y [B, n, D] → the cross reads merged [B, n, R·W].
  Tensor stateless_output(const Tensor& x, const Tensor& merged_reads,
                          const std::function<Tensor(const Tensor&)>& cross = nullptr) const;
  // Reads of keys/values [B, S, S·W] for queries q [B, n, R, W] (dot, every slot but padded
  // ones; causal: slot j ≤ position i) → [B, n, R·W]; weights (optional) ← [B, n, R, S].
  Tensor attend(const Tensor& q4, const Tensor& k4, const Tensor& v4, const Tensor& padding, bool causal,
                Tensor* weights) const;
  // Rotates a [B, n, K, W] query or key block for positions first.. (positions=rope).
  Tensor rotate(const Tensor& x4, int64_t first) const;
  // Rotates one step's read keys [B, R, W] and write keys [B, H, S·W] for position t.
  void rotate_step(Interface& x, int64_t t) const;
  MachineConfig c_;
  int64_t in_;
};

}  // namespace sdnc::machine
