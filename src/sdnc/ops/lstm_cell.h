// lstm_cell.h — one step of an LSTM (PyTorch's LSTMCell), fused: two GEMMs for the gates,
// one elementwise pass for the cell update, and a hand-written backward.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"
#include "sdnc/ops/sequence_weights.h"

namespace sdnc {

// One LSTM step, gate order i, f, g, o as PyTorch:
//   x    [B, X]        input
//   h    [B, Hd]       previous hidden state
//   c    [B, Hd]       previous cell state
//   w_ih [4Hd, X]      input weights (rows: i, f, g, o blocks of Hd)
//   w_hh [4Hd, Hd]     recurrent weights
//   bias [4Hd]         optional (undefined = none); PyTorch's b_ih + b_hh
//   forget_bias        added to the f pre-activation at run time (the DNC uses 1.0)
//   → {h_next [B, Hd], c_next [B, Hd]}
// gates = x·w_ihᵀ + h·w_hhᵀ + bias; i = σ(gᵢ), f = σ(g_f + forget_bias), g = tanh(g_g),
// o = σ(g_o); c_next = f·c + i·g; h_next = o·tanh(c_next). With forget_bias 0 this equals
// torch.lstm_cell(x, (h, c), w_ih, w_hh, bias, zeros).
// One autograd node with two outputs; an output that gets no gradient counts as zeros.
std::vector<Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                              const Tensor& w_hh, const Tensor& bias = Tensor(), double forget_bias = 0.0);

// The same step with a sequence's weights (sequence_weights.h): weights.weight(0) = w_ih,
// weight(1) = w_hh, bias() = bias. Its backward records (dgates, {x, h}) for the sequence's
// one weight-gradient GEMM instead of taking dw_ih, dw_hh and dbias itself.
std::vector<Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const SequenceWeights& weights,
                              double forget_bias = 0.0);

}  // namespace sdnc
