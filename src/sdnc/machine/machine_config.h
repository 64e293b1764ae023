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
//   eviction    learned | window | h2o | tova (bounded append only; sink_slots for window)
//   read_heads R, write_heads H, word_size W, memory_slots N, memory_slices S, layers L,
//   hidden_size h, d_model D, d_ffn F, activation, norm_first, layer_norm_eps, max_positions,
//   clip_value.
// Two legacy model types are presets of the same machine and keep their config files and
// checkpoint names: "dnc" (models/dnc.h's keys) and "sdnc" (models/sequence_sdnc.h's keys).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/machine/dials.h"

namespace sdnc::machine {

// How a machine's config and parameters are named on disk.
enum class Preset { None, Dnc, Sdnc };

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
  int64_t read_heads = 4, write_heads = 1, word_size = 16;  // R, H, W
  int64_t memory_slots = 0;   // N: required for allocate; for append 0 = unbounded, N > 0 = bounded
  int64_t memory_slices = 0;  // S: 0 = the default (append: R, as multi-head attention; allocate: 1)
  int64_t layers = 1;         // L
  int64_t hidden_size = 64;   // h (lstm, feedforward)
  int64_t d_model = 64, d_ffn = 256;  // D, F (stateless)
  std::string activation = "gelu_tanh";
  bool norm_first = true;     // pre-LN (stateless)
  double layer_norm_eps = 1e-5;
  int64_t max_positions = 1024;  // learned positions
  double clip_value = 20.0;   // recurrent: controller output, state and logits (0: off)
  Preset preset = Preset::None;
  // Not architecture (not in config.json): DeepMind's stop-gradient of the previous write
  // weights inside the usage (DNC.md A.4). false gives the true derivative (finite-difference
  // tests; pytorch-dnc's choice) and runs the composed parts instead of the fused DNC access.
  bool stop_usage_gradient = true;

  int64_t slices() const;  // S after the default
  bool recurrent() const { return controller != Controller::Stateless; }
  bool bounded() const { return write == Write::Append && memory_slots > 0; }
  // The parallel form exists for: stateless controller, unbounded append memory, content reads.
  bool has_parallel_form() const;
  // Exactly DeepMind's DNC access (allocate, cosine, links, shared word, S = 1): the fused
  // access node applies.
  bool is_dnc_access() const;
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
