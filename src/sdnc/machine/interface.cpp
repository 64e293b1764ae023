#include "sdnc/machine/interface.h"

#include <cmath>

#include "sdnc/ops/ops.h"

namespace sdnc::machine {

namespace {
Tensor squeeze_time(const Tensor& x) {  // [B, 1, ...] → [B, ...]
  if (!x.defined()) return x;
  Shape s = x.shape();
  s.erase(s.begin() + 1);
  return reshape(x, s);
}
bool needs_write_keys(const MachineConfig& c) {
  return c.key_value == KeyValue::Separate || c.write == Write::Allocate;
}
}  // namespace

Interface at_step(const Interface& x) {
  return {squeeze_time(x.write_values), squeeze_time(x.erase),      squeeze_time(x.free_gates),
          squeeze_time(x.allocation_gate), squeeze_time(x.write_gate), squeeze_time(x.read_modes),
          squeeze_time(x.write_keys),    squeeze_time(x.write_strengths), squeeze_time(x.read_keys),
          squeeze_time(x.read_strengths)};
}

int64_t InterfaceProjection::qkv_width(const MachineConfig& c) {
  const int64_t row = c.write_heads * c.slices() * c.word_size;
  return c.read_heads * c.word_size + (needs_write_keys(c) ? 2 : 1) * row;
}

InterfaceProjection::Part InterfaceProjection::own(const char* name, int64_t width) {
  auto l = register_module(name, std::make_shared<nn::Linear>(in_, width));
  own_.push_back(l);
  return {l, 0, width};
}

InterfaceProjection::InterfaceProjection(const MachineConfig& c, int64_t in, std::shared_ptr<nn::Linear> qkv)
    : c_(c), in_(in) {
  const int64_t R = c.read_heads, H = c.write_heads, W = c.word_size, row = H * c.slices() * W;
  const bool allocate = c.write == Write::Allocate, cosine = c.similarity == Similarity::Cosine;
  // Rows of the fused projection: [queries ; write keys (if any) ; write values].
  Part q, k, v;
  if (qkv) {
    SDNC_CHECK(qkv->out == qkv_width(c), "interface", "fused projection has {} rows, the dials need {}", qkv->out,
               qkv_width(c));
    q = {qkv, 0, R * W};
    int64_t at = R * W;
    if (needs_write_keys(c)) k = {qkv, at, at + row}, at += row;
    v = {qkv, at, at + row};
  }
  // DeepMind's creation order (the names and order of its variables).
  write_values_ = qkv ? v : own("write_vectors", row);
  if (allocate) erase_ = own("erase_vectors", row);
  if (allocate || c.bounded()) free_gates_ = own("free_gate", R);
  if (allocate) allocation_gate_ = own("allocation_gate", H), write_gate_ = own("write_gate", H);
  if (c.read_modes == ReadModes::Links) read_modes_ = own("read_mode", R * (1 + 2 * H));
  if (needs_write_keys(c)) write_keys_ = qkv ? k : own("write_keys", row);
  if (allocate && cosine) write_strengths_ = own("write_strengths", H);
  read_keys_ = qkv ? q : own("read_keys", R * W);
  if (cosine) read_strengths_ = own("read_strengths", R);
}

Interface InterfaceProjection::project(const Tensor& o) const {
  SDNC_CHECK(o.ndim() == 3 && o.size(2) == in_, "interface", "controller output {} must be [B, n, {}]",
             shape_str(o.shape()), in_);
  const int64_t B = o.size(0), n = o.size(1), R = c_.read_heads, H = c_.write_heads, W = c_.word_size;
  const int64_t row = c_.slices() * W;
  // A part that is a row range of the fused projection is a column range of its output,
  // computed once: a row slice of the weight per part would copy the weights at every call.
  Tensor fused_output;
  auto out = [&](const Part& p) {
    if (p.begin == 0 && p.end == p.linear->out) return p.linear->forward(o);
    if (!fused_output.defined()) fused_output = p.linear->forward(o);  // [B, n, qkv_width]
    return slice(fused_output, 2, p.begin, p.end);
  };
  Interface x;
  x.write_values = reshape(out(write_values_), {B, n, H, row});
  if (erase_.defined()) x.erase = reshape(sigmoid(out(erase_)), {B, n, H, row});
  if (free_gates_.defined()) x.free_gates = sigmoid(out(free_gates_));
  if (allocation_gate_.defined()) x.allocation_gate = sigmoid(out(allocation_gate_));
  if (write_gate_.defined()) x.write_gate = sigmoid(out(write_gate_));
  if (read_modes_.defined()) x.read_modes = softmax(reshape(out(read_modes_), {B, n, R, 1 + 2 * H}), -1);
  if (write_keys_.defined()) x.write_keys = reshape(out(write_keys_), {B, n, H, row});
  if (write_strengths_.defined()) x.write_strengths = out(write_strengths_);
  x.read_keys = reshape(out(read_keys_), {B, n, R, W});
  if (read_strengths_.defined()) x.read_strengths = out(read_strengths_);
  return x;
}

InterfaceProjection::Fused InterfaceProjection::fused() const {
  std::vector<Tensor> w, b;
  SDNC_CHECK(c_.write == Write::Allocate, "interface", "the fused access is for write=allocate");
  for (const Part* p : {&write_values_, &erase_, &free_gates_, &allocation_gate_, &write_gate_, &read_modes_,
                        &write_keys_, &write_strengths_, &read_keys_, &read_strengths_}) {
    if (!p->defined()) continue;  // a part these dials do not have: not in the layout either
    bool whole = p->begin == 0 && p->end == p->linear->out;
    SDNC_CHECK(p->linear->layout == nn::WeightLayout::Linear, "interface", "fused parts must have the Linear layout");
    w.push_back(whole ? p->linear->weight : slice(p->linear->weight, 0, p->begin, p->end));
    b.push_back(whole ? p->linear->bias : slice(p->linear->bias, 0, p->begin, p->end));
  }
  Fused f{concat(w, 0), concat(b, 0), nullptr};
  f.sequence = SequenceWeights::make({f.weight}, f.bias);
  return f;
}

Tensor InterfaceProjection::Fused::project(const Tensor& a) const {
  if (sequence && sequence->open()) return sequence_linear(a, *sequence);
  return linear(a, weight, bias);
}

void InterfaceProjection::init_truncated(Generator& g) {
  const double stddev = 1.0 / std::sqrt(static_cast<double>(in_));
  for (auto& l : own_) {
    g.fill_truncated_normal(l->weight, 0.0, stddev);
    l->bias.fill(0.0);
  }
}

void InterfaceProjection::init_uniform(Generator& g) {
  for (auto& l : own_) l->init_uniform(g);
}

}  // namespace sdnc::machine
