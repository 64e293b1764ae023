// machine_config.h — one typed config for every memory machine: the dials (dials.h) and the
// sizes, carried from the JSON / command-line keys down to the parts. Letter legend
// (docs/notation.md): X input width, Y output width, R read heads, H write heads, W word size
// (per read head), S memory slices, N memory slots, L layers, D model width (stateless),
// h controller size (recurrent), F feed-forward width.
//
// config.json of a machine ("model_type": "machine"), every key but input_size/output_size
// optional:
//   controller  stateless | lstm | feedforward     write       append | allocate
//   similarity  dot | cosine                       read_modes  content | links
//   key_value   separate | shared                  positions   none | learned | sinusoidal | rope | alibi
//   strength    softplus | oneplus (cosine only)
//   input_vocab V_in (0: vector inputs; > 0: token ids through an embedding),
//   eviction    learned | window | h2o | tova (bounded append only; sink_slots for window)
//   read_heads R, write_heads H, word_size W, memory_slots N, memory_slices S, layers L,
//   hidden_size h, d_model D, d_ffn F, activation (relu | gelu | gelu_tanh | swiglu),
//   norm_first, norm (layer | rms), bias, layer_norm_eps, rope_theta, causal, cross_reads, max_positions,
//   clip_value.
// Two legacy model types are presets of the same machine and keep their config files and
// checkpoint names: "dnc" (models/dnc.h's keys) and "sdnc" (models/sequence_sdnc.h's keys).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/controllers/stateless_controller.h"
#include "sdnc/machine/dials.h"

namespace sdnc::machine {

// How a machine's config and parameters are named on disk.
enum class Preset { None, Dnc, Sdnc };
// The normalisation of a stateless layer (and of the stack's output): LayerNorm | RMSNorm.
enum class Norm { Layer, Rms };
Norm parse_norm(const std::string& s, const std::string& where);
const char* name(Norm v);

struct MachineConfig {
  // the dials (default: the DNC corner)
  Controller controller = Controller::Lstm;
  Write write = Write::Allocate;
  Similarity similarity = Similarity::Cosine;
  ReadModes read_modes = ReadModes::Links;
  KeyValue key_value = KeyValue::Shared;
  Positions positions = Positions::None;
  Strength strength = Strength::Oneplus;
  Eviction eviction = Eviction::Learned;  // a full bounded append memory's slot to overwrite
  int64_t sink_slots = 0;                 // eviction=window: the first slots kept for ever
  // sizes
  int64_t input_size = 0, output_size = 0;               // X, Y (required)
  // V_in: 0 = real-vector inputs [B, T, X] through the `input` Linear; > 0 = token ids I64
  // [B, T] in [0, V_in) through an `input` Embedding [V_in, D] (any controller; a recurrent
  // one then reads D wide inputs). input_size is V_in then.
  int64_t input_vocab = 0;
  int64_t read_heads = 4, write_heads = 1, word_size = 16;  // R, H, W
  int64_t memory_slots = 0;   // N: required for allocate; for append 0 = unbounded, N > 0 = bounded
  int64_t memory_slices = 0;  // S: 0 = the default (append: R, as multi-head attention; allocate: 1)
  int64_t layers = 1;         // L
  int64_t hidden_size = 64;   // h (lstm, feedforward)
  int64_t d_model = 64, d_ffn = 256;  // D, F (stateless)
  std::string activation = "gelu_tanh";
  bool norm_first = true;     // pre-LN (stateless)
  Norm norm = Norm::Layer;    // stateless: LayerNorm (GPT-2, BERT) | RMSNorm (Llama)
  bool bias = true;           // stateless: biases in Q/K/V, the read-out and the FFN
  double layer_norm_eps = 1e-5;  // the eps of either norm
  double rope_theta = 10000.0;   // positions=rope: θ_i = rope_theta^(−2i/W)
  // Stateless, unbounded append, content reads: false = bidirectional (an encoder): every
  // slot is written before any read, and reads see every slot (no step form).
  bool causal = true;
  // Stateless: after reading its own memory, each layer reads another machine's memory too
  // (written once from that machine's output, e.g. an encoder's): cross-attention, the
  // encoder-decoder's decoder layer ("multihead_attn.*"; norms norm1 self, norm2 cross, norm3 FFN).
  bool cross_reads = false;
  int64_t max_positions = 1024;  // learned positions
  double clip_value = 20.0;   // recurrent: controller output, state and logits (0: off)
  Preset preset = Preset::None;
  // Not a config key (set by the model that owns the stack): a stateless layer's parameter
  // names, torch.nn's (self_attn.in_proj_weight, linear1, norm1, ...) or GPT-2's (ln_1,
  // attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj; Conv1D [in, out] weights).
  controllers::ParamNaming naming = controllers::ParamNaming::Torch;
  // Not architecture (not in config.json): DeepMind's stop-gradient of the previous write
  // weights inside the usage (DNC.md A.4). false gives the true derivative (finite-difference
  // tests; pytorch-dnc's choice) and runs the composed parts instead of the fused DNC access.
  bool stop_usage_gradient = true;

  // The Transformer corner's dials (stateless, append, dot, content, separate, no positions
  // inside the layer); sizes at their defaults.
  static MachineConfig transformer_corner();

  int64_t slices() const;  // S after the default
  bool recurrent() const { return controller != Controller::Stateless; }
  bool token_input() const { return input_vocab > 0; }
  bool bounded() const { return write == Write::Append && memory_slots > 0; }
  // The parallel form exists for: stateless controller, unbounded append memory, content reads.
  bool has_parallel_form() const;
  // The chunk form (MachineStack::extend: n new positions in one parallel pass that appends
  // their slots and reads the memory so far, e.g. a prompt) exists where the parallel form
  // does, causal, with dot-product reads, no alibi and no cross_reads.
  bool has_chunk_form() const;
  // Exactly DeepMind's DNC access (allocate, cosine, links, shared word, S = 1).
  bool is_dnc_access() const;
  // The fused access node (ops/dnc_addressing.h) applies: every allocate corner with one
  // memory slice and no positions inside the addressing (rope, alibi).
  bool has_fused_access() const;
  // Why the parallel form does not exist ("" when it does).
  std::string no_parallel_reason() const;

  // Throws "[config] <where>: ..." naming the key and its allowed values.
  void validate(const std::string& where) const;
  // model_type "machine", "dnc" or "sdnc"; unknown keys are refused with the nearest name.
  static MachineConfig from_json(const nlohmann::json& j, const std::string& where);
  // The preset's legacy config for Dnc / Sdnc, "model_type": "machine" with every key otherwise.
  nlohmann::json to_json() const;
  // "controller=lstm write=allocate ..." — the five dials in one line (tables, logs).
  std::string dials_string() const;
};

// The JSON keys of a "machine" config, in documentation order.
const std::vector<std::string>& machine_config_keys();

}  // namespace sdnc::machine
