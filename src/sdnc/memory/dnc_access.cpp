#include "sdnc/memory/dnc_access.h"

#include <cmath>

#include "sdnc/memory/allocation.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/memory/usage.h"
#include "sdnc/memory/word_memory.h"
#include "sdnc/ops/dnc_addressing.h"
#include "sdnc/ops/ops.h"

namespace sdnc::memory {

AccessState AccessState::zeros(const DncAccessConfig& c, int64_t B, DType dtype) {
  const int64_t N = c.memory_size, W = c.word_size, R = c.num_reads, H = c.num_writes;
  return {Tensor::zeros({B, N, W}, dtype),    Tensor::zeros({B, R, N}, dtype), Tensor::zeros({B, H, N}, dtype),
          Tensor::zeros({B, H, N, N}, dtype), Tensor::zeros({B, H, N}, dtype), Tensor::zeros({B, N}, dtype)};
}

DncAccess::DncAccess(const DncAccessConfig& c) : config_(c) {
  const int64_t I = c.input_size, W = c.word_size, R = c.num_reads, H = c.num_writes;
  SDNC_CHECK(I > 0 && c.memory_size > 0 && W > 0 && R > 0 && H > 0, "dnc_access",
             "sizes must be positive: input {}, N {}, W {}, R {}, H {}", I, c.memory_size, W, R, H);
  auto lin = [&](const char* name, int64_t out) { return register_module(name, std::make_shared<nn::Linear>(I, out)); };
  write_vectors = lin("write_vectors", H * W);
  erase_vectors = lin("erase_vectors", H * W);
  free_gate = lin("free_gate", R);
  allocation_gate = lin("allocation_gate", H);
  write_gate = lin("write_gate", H);
  read_mode = lin("read_mode", R * (1 + 2 * H));
  write_keys = lin("write_keys", H * W);
  write_strengths = lin("write_strengths", H);
  read_keys = lin("read_keys", R * W);
  read_strengths = lin("read_strengths", R);
}

void DncAccess::init(Generator& g) {
  double stddev = 1.0 / std::sqrt(static_cast<double>(config_.input_size));
  for (auto* l : {&write_vectors, &erase_vectors, &free_gate, &allocation_gate, &write_gate, &read_mode, &write_keys,
                  &write_strengths, &read_keys, &read_strengths}) {
    g.fill_truncated_normal((*l)->weight, 0.0, stddev);
    (*l)->bias.fill(0.0);
  }
}

Interface DncAccess::interface(const Tensor& o) const {
  const int64_t B = o.size(0), W = config_.word_size, R = config_.num_reads, H = config_.num_writes;
  Interface x;
  x.write_vectors = reshape(write_vectors->forward(o), {B, H, W});
  x.erase_vectors = reshape(sigmoid(erase_vectors->forward(o)), {B, H, W});
  x.free_gate = sigmoid(free_gate->forward(o));
  x.allocation_gate = sigmoid(allocation_gate->forward(o));
  x.write_gate = sigmoid(write_gate->forward(o));
  x.read_mode = softmax(reshape(read_mode->forward(o), {B, R, 1 + 2 * H}), -1);
  x.write_keys = reshape(write_keys->forward(o), {B, H, W});
  x.write_strengths = write_strengths->forward(o);
  x.read_keys = reshape(read_keys->forward(o), {B, R, W});
  x.read_strengths = read_strengths->forward(o);
  return x;
}

DncAccess::FusedInterface DncAccess::fused_interface() const {
  std::vector<Tensor> w, b;
  for (const auto* l : {&write_vectors, &erase_vectors, &free_gate, &allocation_gate, &write_gate, &read_mode,
                        &write_keys, &write_strengths, &read_keys, &read_strengths}) {
    w.push_back((*l)->weight);
    b.push_back((*l)->bias);
  }
  return {concat(w, 0), concat(b, 0)};
}

Tensor DncAccess::step(const Tensor& o, const AccessState& prev, AccessState* next, const FusedInterface* fi) const {
  return config_.fused ? step_fused(o, prev, next, fi) : step_composed(o, prev, next);
}

Tensor DncAccess::step_fused(const Tensor& o, const AccessState& prev, AccessState* next,
                             const FusedInterface* fi) const {
  SDNC_CHECK(o.ndim() == 2 && o.size(1) == config_.input_size, "dnc_access", "controller output {} must be [B, {}]",
             shape_str(o.shape()), config_.input_size);
  FusedInterface own;
  if (!fi) own = fused_interface(), fi = &own;
  Tensor iface = linear(o, fi->weight, fi->bias);  // [B, I]: one GEMM for the ten linears
  std::vector<Tensor> out = dnc_access_step(iface, prev.memory, prev.read_weights, prev.write_weights, prev.link,
                                            prev.precedence, prev.usage, config_.strength == Strength::Oneplus);
  if (next) *next = {out[1], out[2], out[3], out[4], out[5], out[6]};
  return out[0];
}

Tensor DncAccess::step_composed(const Tensor& o, const AccessState& prev, AccessState* next) const {
  const int64_t B = o.size(0), N = config_.memory_size, R = config_.num_reads, H = config_.num_writes;
  SDNC_CHECK(o.ndim() == 2 && o.size(1) == config_.input_size, "dnc_access", "controller output {} must be [B, {}]",
             shape_str(o.shape()), config_.input_size);
  Interface x = interface(o);
  AccessState s;
  // usage (freeness)
  s.usage = update_usage(prev.usage, prev.write_weights, x.free_gate, prev.read_weights);
  // write weights: content on the old memory, allocation from the usage
  Tensor write_content = cosine_weights(prev.memory, x.write_keys, x.write_strengths, config_.strength);  // [B, H, N]
  Tensor alloc = write_allocation_weights(s.usage, mul(x.allocation_gate, x.write_gate));               // [B, H, N]
  Tensor ga = reshape(x.allocation_gate, {B, H, 1}), gw = reshape(x.write_gate, {B, H, 1});
  s.write_weights = mul(gw, add(mul(ga, alloc), mul(add_scalar(neg(ga), 1.0), write_content)));
  // erase, then add
  s.memory = erase_and_write(prev.memory, s.write_weights, x.erase_vectors, x.write_vectors);
  // link, then precedence
  s.link = update_link(prev.link, prev.precedence, s.write_weights);
  s.precedence = update_precedence(prev.precedence, s.write_weights);
  // read weights: content on the new memory, directions on the new link and old read weights
  Tensor read_content = cosine_weights(s.memory, x.read_keys, x.read_strengths, config_.strength);  // [B, R, N]
  Tensor fwd = directional_weights(s.link, prev.read_weights, /*forward=*/true);                  // [B, R, H, N]
  Tensor bwd = directional_weights(s.link, prev.read_weights, /*forward=*/false);
  std::vector<Tensor> modes = split(x.read_mode, {H, H, 1}, 2);  // backward, forward, content
  Tensor weights = mul(modes[2], read_content);
  weights = add(weights, sum(mul(reshape(modes[1], {B, R, H, 1}), fwd), 2));
  weights = add(weights, sum(mul(reshape(modes[0], {B, R, H, 1}), bwd), 2));
  s.read_weights = weights;
  (void)N;
  Tensor words = read_words(s.memory, s.read_weights);
  if (next) *next = std::move(s);
  return words;
}

}  // namespace sdnc::memory
