// gemv_lowp.h — one row times a weight matrix held in fewer bits than F32, for the products
// of a decoding step (inference only): BF16 (the top 16 bits of each F32, rounded to nearest
// even: 8 bits of mantissa), or int8 with one F32 scale per output (w ≈ scale_o · q, q in
// [−127, 127], scale_o = max_i |w_io| / 127). A decoding step is bound by reading its weights
// (backend/cpu/gemv.h), so halving or quartering the bytes read is the way past the F32 floor.
// The activations, sums and epilogues stay F32; each weight is widened to F32 as it is read.
//
// Layouts as gemv.h's: Conv1D W [K, N] (in × out) or Linear W [N, K] (out × in); the scale is
// per output column either way. Kernels are serial over output columns [o0, o1), summed in a
// fixed order whatever the split.
// Letters: K inputs, N outputs.
#pragma once
#include <cstdint>
#include <vector>

#include "sdnc/backend/cpu/gemv.h"

namespace sdnc::cpu {

enum class WeightFormat : uint8_t { F32, BF16, Int8 };

const char* weight_format_name(WeightFormat f);  // "f32" | "bf16" | "int8"

// A matrix converted once from F32 (pack_matrix), with its layout.
struct PackedMatrix {
  WeightFormat format = WeightFormat::F32;
  int64_t K = 0, N = 0;
  bool conv1d = false;
  std::vector<uint16_t> bf16;  // [K·N] in the layout's order (BF16)
  std::vector<int8_t> q;       // [K·N] in the layout's order (Int8)
  std::vector<float> scale;    // [N] (Int8)
  int64_t bytes() const { return static_cast<int64_t>(bf16.size() * 2 + q.size() + scale.size() * 4); }
};

// W in the given layout ([K, N] with conv1d, else [N, K]) → format (BF16 or Int8).
PackedMatrix pack_matrix(const float* W, int64_t K, int64_t N, bool conv1d, WeightFormat format);

// The F32 value a packed weight stands for (tests; W[i, o] in either layout).
float unpacked(const PackedMatrix& W, int64_t i, int64_t o);

// y[o] ← epilogue(Σ_i x[i] · W[i, o] + bias[o]) for o0 ≤ o < o1, x [K], y [N], bias [N] or null.
void row_times_packed(const float* x, const PackedMatrix& W, const float* bias, float* y, int64_t o0, int64_t o1,
                      RowEpilogue epilogue);

}  // namespace sdnc::cpu
