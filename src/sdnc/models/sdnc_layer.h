// sdnc_layer.h — one sDNC layer: a stateless controller, a write-once memory of its own,
// R read heads on it, and (for decoder layers) R read heads on another sDNC's memory.
//
// One step of the layer at position t, pre-LN (post-LN moves each LayerNorm after its
// residual add):
//   a = LN_self(x_t)
//   interface: q_t, k_t, v_t = split_heads(W_in · a)      (read keys, write key, write vector)
//   write:     slot t of the memory ← (k_t, v_t)           (append once; nothing erased)
//   read:      r_t = Σ_j softmax_j(sim(q_t, k_j)) v_j       (per head; content addressing)
//   y_t = x_t + W_o · merge_heads(r_t)
//   [cross: y_t += W_o' · read(W_q' LN_cross(y_t), encoder memory)]
//   z_t = y_t + FFN(LN_ffn(y_t))
//
// Two execution forms of the same weights:
//   forward_parallel — every position at once (the Transformer way, for training);
//   step             — a few positions at a time, writing their slots into an
//                      AppendOnceMemory and reading it (the DNC way; the KV cache).
#pragma once
#include <memory>

#include "sdnc/controllers/stateless_controller.h"
#include "sdnc/memory/append_memory.h"
#include "sdnc/memory/content_addressing.h"

namespace sdnc::models {

struct LayerConfig {
  controllers::ControllerConfig controller;
  memory::Similarity similarity = memory::Similarity::ScaledDot;
};

// What the parallel form needs besides x.
struct ParallelContext {
  bool causal = true;
  Tensor padding;        // [B, T] nonzero = padding position (never read); may be undefined
  Tensor cross_source;   // [B, S, D]: the memory another sDNC wrote (encoder output)
  Tensor cross_padding;  // [B, S]
  Tensor* self_weights = nullptr;   // trace: read weights [B, H, T, T]
  Tensor* cross_weights = nullptr;  // trace: read weights [B, H, T, S]
};

// The state the recurrent form carries between steps: the layer's memories.
struct LayerMemories {
  memory::AppendOnceMemory self;
  memory::AppendOnceMemory cross;  // written once by write_cross_memory
};

// R read heads over a memory, with their interface and read-out projections: the query
// comes from a [B, T, D]; the memory is written from `source` [B, S, D] (a itself for
// self-reads). Returns W_o · merge_heads(reads) [B, T, D]. This is exactly
// torch.nn.MultiheadAttention(a, source, source) with Torch naming.
Tensor multi_head_read(const controllers::HeadProjections& heads, int64_t num_heads, memory::Similarity similarity,
                       const Tensor& strength, const Tensor& a, const Tensor& source, const Tensor& padding,
                       bool causal, Tensor* weights = nullptr);

class SdncLayer : public nn::Module {
 public:
  explicit SdncLayer(const LayerConfig& config);
  const LayerConfig& config() const { return config_; }

  Tensor forward_parallel(const Tensor& x, const ParallelContext& ctx) const;

  // Recurrent form, no autograd. x [B, n, D] are the next n positions. With write, their
  // slots are appended (padding [B, n] marks padded positions); with read, the positions
  // read everything written so far and the layer returns their outputs [B, n, D].
  // Decoder: write and read together, n = 1 per step. Encoder: all writes, then all reads.
  Tensor step(const Tensor& x, LayerMemories& memories, bool write, bool read, const Tensor& padding = Tensor(),
              Tensor* self_weights = nullptr, Tensor* cross_weights = nullptr) const;

  // Writes the cross memory once from another sDNC's output source [B, S, D].
  void write_cross_memory(const Tensor& source, const Tensor& padding, LayerMemories& memories) const;

  std::shared_ptr<controllers::StatelessController> controller;
  Tensor read_strength;  // [H], cosine similarity only

 private:
  // Residual sublayer with the configured LayerNorm placement.
  template <class F>
  Tensor sublayer(const Tensor& x, const nn::LayerNorm& norm, F&& body) const;
  memory::AddressedKeys addressed(const Tensor& q, const Tensor& k) const;
  LayerConfig config_;
};

}  // namespace sdnc::models
