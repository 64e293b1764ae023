#include "sdnc/machine/write_head.h"

#include <algorithm>
#include <cstring>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/machine/addressing.h"

#include "sdnc/memory/allocation.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/memory/usage.h"
#include "sdnc/memory/word_memory.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

namespace {

// [B, ..., n] → [B, ..., n + 1] with a zero last entry (a slot that did not exist).
Tensor pad_slot(const Tensor& x) {
  Shape s = x.shape();
  s.back() = 1;
  return concat({x, Tensor::zeros(s, x.dtype())}, -1);
}

// link [B, H, n, n] → [B, H, n + 1, n + 1] with zero row and column n.
Tensor pad_link(const Tensor& link) {
  Tensor rows = pad_slot(link);  // [B, H, n, n + 1]
  Shape s = rows.shape();
  s[2] = 1;
  return concat({rows, Tensor::zeros(s, link.dtype())}, 2);
}

// one-hot [B, 1, n] on slot j
Tensor one_hot_slot(int64_t B, int64_t n, int64_t j, DType dtype) {
  Tensor w = Tensor::zeros({B, 1, n}, DType::F64);
  double* p = w.data<double>();
  for (int64_t b = 0; b < B; ++b) p[b * n + j] = 1.0;
  return dtype == DType::F64 ? w : w.to(dtype);
}

}  // namespace

Tensor reserve_rows(const Tensor& rows, const Tensor& buffer, int64_t extra, int64_t C, DType dtype) {
  const int64_t n = rows.defined() ? rows.size(1) : 0;
  if (buffer.defined() && rows.defined() && rows.same_storage(buffer) && buffer.size(1) >= n + extra) return buffer;
  Tensor grown = Tensor::zeros({1, std::max<int64_t>(64, 2 * (n + extra)), C}, dtype);
  if (n) std::memcpy(grown.raw_data(), rows.raw_data(), static_cast<size_t>(n * C) * dtype_size(dtype));
  return grown;
}

Tensor append_rows(const Tensor& rows, const Tensor& buffer, const Tensor& new_rows, Tensor& out_buffer) {
  const int64_t n = rows.defined() ? rows.size(1) : 0, k = new_rows.size(1), C = new_rows.size(2);
  if (grad_enabled() || new_rows.size(0) != 1) {
    out_buffer = Tensor();
    return n ? concat({rows, new_rows}, 1) : new_rows;
  }
  out_buffer = reserve_rows(rows, buffer, k, C, new_rows.dtype());
  const size_t bytes = static_cast<size_t>(C) * dtype_size(new_rows.dtype());
  std::memcpy(static_cast<char*>(out_buffer.raw_data()) + static_cast<size_t>(n) * bytes, new_rows.raw_data(),
              static_cast<size_t>(k) * bytes);
  return out_buffer.view_prefix({1, n + k, C});
}

namespace {

// Rule-based eviction (eviction = window | h2o | tova): each slot's score before this step's
// write, [B, n_prev] F64, lower = evicted first; the memory's usage field carries it from step
// to step. window: the write stamp of the slot (0, 1, 2, ...); h2o: the read weight summed over
// read heads and over every step since the slot was written; tova: the last step's read weight,
// the mean over read heads. The previous step's reads (prev.read_weights) are folded in here.
Tensor eviction_scores(const MachineConfig& c, const MemoryState& prev) {
  const int64_t n = prev.slots();
  if (n == 0) return Tensor();
  const int64_t B = prev.keys.size(0), R = prev.read_weights.defined() ? prev.read_weights.size(1) : 0;
  Tensor score = prev.usage.defined() ? prev.usage.to(DType::F64) : Tensor::zeros({B, n}, DType::F64);
  if (c.eviction == Eviction::Window || R == 0) return score;
  Tensor reads = prev.read_weights.to(DType::F64);  // [B, R, n]
  double* s = score.data<double>();
  const double* w = reads.data<double>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t r = 0; r < R; ++r) sum += w[(b * R + r) * n + j];
      double& sj = s[b * n + j];
      sj = c.eviction == Eviction::H2o ? sj + sum : sum / static_cast<double>(R);
    }
  return score;
}

// The score a slot gets when written: window its stamp (one above every other), else 0.
double fresh_score(const MachineConfig& c, const double* row, int64_t n) {
  if (c.eviction != Eviction::Window) return 0.0;
  double top = -1.0;
  for (int64_t j = 0; j < n; ++j) top = std::max(top, row[j]);
  return top + 1.0;
}

bool stores_link(const MachineConfig& c) {
  return c.read_modes == ReadModes::Links && (c.write == Write::Allocate || c.bounded());
}

}  // namespace

MemoryState initial_memory(const MachineConfig& c, int64_t B, DType dtype) {
  MemoryState m;
  if (c.write != Write::Allocate) return m;
  const int64_t N = c.memory_slots, H = c.write_heads, R = c.read_heads, row = c.slices() * c.word_size;
  m.keys = Tensor::zeros({B, N, row}, dtype);
  if (c.key_value == KeyValue::Separate) m.values = Tensor::zeros({B, N, row}, dtype);
  m.usage = Tensor::zeros({B, N}, dtype);
  m.write_weights = Tensor::zeros({B, H, N}, dtype);
  m.read_weights = Tensor::zeros({B, R, N}, dtype);
  if (stores_link(c)) {
    m.link = Tensor::zeros({B, H, N, N}, dtype);
    m.precedence = Tensor::zeros({B, H, N}, dtype);
  }
  return m;
}

void write_step(const MachineConfig& c, const Interface& x, const MemoryState& prev, MemoryState& next) {
  const bool separate = c.key_value == KeyValue::Separate;
  const Tensor& v = x.write_values;                  // [B, H, S·W]
  const Tensor& k = separate ? x.write_keys : v;     // what the key memory receives
  const int64_t B = v.size(0), H = c.write_heads, n_prev = prev.slots();
  const DType dt = v.dtype();

  // Usage (before this step's write): the previous write and read weights, this step's free gates.
  Tensor usage;
  const bool by_rule = c.bounded() && c.eviction != Eviction::Learned;
  if (x.free_gates.defined() && n_prev > 0 && !by_rule)
    usage = memory::update_usage(prev.usage, prev.write_weights, x.free_gates, prev.read_weights,
                                 c.stop_usage_gradient);

  Tensor link = prev.link, precedence = prev.precedence;
  if (c.write == Write::Allocate) {
    Tensor ga = x.allocation_gate, gw = x.write_gate;  // [B, H]
    Tensor content = content_weights(c.similarity, c.strength, prev.keys, x.write_keys, 1, x.write_strengths);
    Tensor alloc = memory::write_allocation_weights(usage, mul(ga, gw));  // [B, H, N]
    Tensor ga3 = reshape(ga, {B, H, 1}), gw3 = reshape(gw, {B, H, 1});
    next.write_weights = mul(gw3, add(mul(ga3, alloc), mul(add_scalar(neg(ga3), 1.0), content)));
    next.keys = memory::erase_and_write(prev.keys, next.write_weights, x.erase, separate ? x.write_keys : v);
    if (separate) next.values = memory::erase_and_write(prev.values, next.write_weights, x.erase, v);
    next.usage = usage;
  } else if (!c.bounded() || n_prev < c.memory_slots) {
    // Append: slot n_prev, one-hot; nothing erased.
    const int64_t n = n_prev + 1;
    next.write_weights = one_hot_slot(B, n, n_prev, dt);
    next.keys = append_rows(prev.keys, prev.key_buffer, k, next.key_buffer);  // generation: in place
    if (separate) next.values = append_rows(prev.values, prev.value_buffer, v, next.value_buffer);
    if (by_rule) {
      Tensor score = eviction_scores(c, prev);  // undefined while the memory is empty
      Tensor grown = Tensor::zeros({B, n}, DType::F64);
      for (int64_t b = 0; b < B; ++b) {
        double* row = grown.data<double>() + b * n;
        if (n_prev) std::memcpy(row, score.data<double>() + b * n_prev, static_cast<size_t>(n_prev) * sizeof(double));
        row[n_prev] = fresh_score(c, row, n_prev);
      }
      next.usage = grown.to(dt);
    } else if (c.bounded()) {
      next.usage = usage.defined() ? pad_slot(usage) : Tensor::zeros({B, 1}, dt);
    }
    if (stores_link(c) && n_prev) link = pad_link(prev.link), precedence = pad_slot(prev.precedence);
    if (stores_link(c) && !n_prev) link = Tensor::zeros({B, 1, 1, 1}, dt), precedence = Tensor::zeros({B, 1, 1}, dt);
  } else if (by_rule) {
    // Bounded and full, rule-based: overwrite the lowest-scoring slot (the first such slot on
    // ties; window keeps the first sink_slots slots). Not differentiable: the choice is a constant.
    Tensor score = eviction_scores(c, prev);
    Tensor w = Tensor::zeros({B, 1, n_prev}, DType::F64);
    const int64_t first = c.eviction == Eviction::Window ? c.sink_slots : 0;
    for (int64_t b = 0; b < B; ++b) {
      double* row = score.data<double>() + b * n_prev;
      int64_t j = first;
      for (int64_t i = first + 1; i < n_prev; ++i)
        if (row[i] < row[j]) j = i;
      row[j] = fresh_score(c, row, n_prev);
      w.data<double>()[b * n_prev + j] = 1.0;
    }
    next.write_weights = w.to(dt);
    Tensor erase_all = Tensor::ones({B, 1, k.size(2)}, dt);
    next.keys = memory::erase_and_write(prev.keys, next.write_weights, erase_all, k);
    if (separate) next.values = memory::erase_and_write(prev.values, next.write_weights, erase_all, v);
    next.usage = score.to(dt);
  } else {
    // Bounded and full: usage-based allocation picks the slot to reuse; its content is replaced.
    // The allocation is normalised (Σa = 1 − Πũ would fade to 0 as every slot fills up), so a
    // full memory always writes one slot's worth, mostly into the least used slot.
    Tensor alloc = memory::write_allocation_weights(usage, Tensor::ones({B, 1}, dt));  // [B, 1, N]
    next.write_weights = div(alloc, add_scalar(sum(alloc, -1, true), kAddressingEpsilon));
    Tensor erase_all = Tensor::ones({B, 1, k.size(2)}, dt);
    next.keys = memory::erase_and_write(prev.keys, next.write_weights, erase_all, k);
    if (separate) next.values = memory::erase_and_write(prev.values, next.write_weights, erase_all, v);
    next.usage = usage;
  }
  if (stores_link(c)) {
    next.link = memory::update_link(link, precedence, next.write_weights);
    next.precedence = memory::update_precedence(precedence, next.write_weights);
  }
}

}  // namespace sdnc::machine
