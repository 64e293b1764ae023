// decode_step.h — the single-token step of generation as one op: one new position through a
// stack of stateless pre-LN machine layers (append memory, dot-product reads, separate keys and
// values), written into and read from each layer's slot-major memory in place, then an
// optional head. Inference only: no autograd, F32 activations and memory, one sequence; the
// matrices F32 or, for speed past the F32 floor, copies packed once per generation to BF16
// or int8 with a scale per output (pack_decode_weights; backend/cpu/gemv_lowp.h). The arithmetic and the
// threads: backend/cpu/decode_step.h. The machine's general step (machine_layer.h) is its
// oracle (tests/unit/test_gpt2_decode.cpp).
// Letters: D model width, R read heads, S memory slices, W word size, F feed-forward width,
// V vocabulary, n slots written before this step.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

struct DecodeLayerTensors {
  Tensor norm1_weight, norm1_bias;  // [D] (LayerNorm)
  Tensor qkv_weight, qkv_bias;      // rows [Q (R·W) ; K (S·W) ; V (S·W)]: [Q, D], or [D, Q] with conv1d
  Tensor out_weight, out_bias;      // [D, R·W], or [R·W, D] with conv1d
  Tensor norm2_weight, norm2_bias;  // [D]
  Tensor up_weight, up_bias;        // [F, D], or [D, F] with conv1d
  Tensor down_weight, down_bias;    // [D, F], or [F, D] with conv1d
  Tensor key_buffer, value_buffer;  // [1, capacity, S·W], capacity > n; slot n is written
};

struct DecodeStepOptions {
  int64_t read_heads = 0, slices = 0, word_size = 0;  // R, S, W
  double eps = 1e-5;
  bool conv1d = false;                 // weights [in, out] (GPT-2's Conv1D)
  std::string activation = "relu";     // relu | gelu | gelu_tanh
};

// The matrices of a stack (and its head) packed once to "bf16" or "int8" for a generation;
// opaque here (ops/decode_step.cpp). weights_bytes: what one step reads of them.
struct DecodeWeightCopies;
std::shared_ptr<const DecodeWeightCopies> pack_decode_weights(const std::vector<DecodeLayerTensors>& layers,
                                                              const DecodeStepOptions& options,
                                                              const Tensor& head_weight, const std::string& format);
std::string decode_weights_format(const DecodeWeightCopies& copies);
int64_t decode_weights_bytes(const DecodeWeightCopies& copies);

// The formats pack_decode_weights takes ("f32" needs no copies).
inline constexpr const char* kDecodeWeightFormats = "f32, bf16, int8";

// x [1, D] → [1, D] (the last layer's output), or logits [1, V] = LN(x)·head_weightᵀ when
// head_weight [V, D] is defined (head_norm_bias may be undefined). Throws "[decode_step] ..."
// naming a tensor of the wrong dtype, shape or capacity. copies (optional): the matrices to
// use instead of the tensors', made by pack_decode_weights from these layers and head.
Tensor decode_step(const Tensor& x, int64_t n, const std::vector<DecodeLayerTensors>& layers,
                   const DecodeStepOptions& options, const Tensor& head_norm_weight = Tensor(),
                   const Tensor& head_norm_bias = Tensor(), const Tensor& head_weight = Tensor(),
                   const DecodeWeightCopies* copies = nullptr);

}  // namespace sdnc
