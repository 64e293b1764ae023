#include "sdnc/machine/machine_config.h"

#include <algorithm>

#include "sdnc/controllers/stateless_controller.h"
#include "sdnc/core/error.h"
#include "sdnc/io/config.h"
#include "sdnc/io/utf8.h"
#include "sdnc/models/dnc.h"
#include "sdnc/models/sequence_sdnc.h"

namespace sdnc::machine {

using nlohmann::json;

const std::vector<std::string>& machine_config_keys() {
  static const std::vector<std::string> keys = {
      "model_type", "controller", "write",         "similarity",  "read_modes", "key_value",     "positions",
      "strength",   "input_size", "input_vocab", "output_size",   "read_heads",  "write_heads", "word_size",    "memory_slots",
      "memory_slices", "layers",  "hidden_size",   "d_model",     "d_ffn",       "activation",   "norm_first",
      "norm", "bias", "layer_norm_eps", "rope_theta", "causal", "cross_reads", "max_positions", "clip_value",
      "eviction", "sink_slots"};
  return keys;
}

Norm parse_norm(const std::string& s, const std::string& where) {
  if (s == "layer") return Norm::Layer;
  if (s == "rms") return Norm::Rms;
  fail("config", "{}: key 'norm' must be one of layer, rms; got '{}'", where, s);
}

const char* name(Norm v) { return v == Norm::Rms ? "rms" : "layer"; }

MachineConfig MachineConfig::transformer_corner() {
  MachineConfig c;
  c.controller = Controller::Stateless;
  c.write = Write::Append;
  c.similarity = Similarity::Dot;
  c.read_modes = ReadModes::Content;
  c.key_value = KeyValue::Separate;
  c.positions = Positions::None;
  return c;
}

int64_t MachineConfig::slices() const {
  if (memory_slices > 0) return memory_slices;
  return write == Write::Append ? read_heads : 1;
}

bool MachineConfig::has_parallel_form() const { return no_parallel_reason().empty(); }

std::string MachineConfig::no_parallel_reason() const {
  if (recurrent()) return "its controller is recurrent (step t needs step t-1's reads)";
  if (!causal) return "";  // validate() allows bidirectional only where the parallel form exists
  if (write != Write::Append) return "its memory is written by allocation (each write depends on the last)";
  if (bounded()) return "its memory is bounded (which slot is reused depends on the past)";
  if (read_modes == ReadModes::Links) return "it reads along temporal links (each read follows the last one)";
  return "";
}

bool MachineConfig::has_chunk_form() const {
  return has_parallel_form() && causal && similarity == Similarity::Dot && positions != Positions::Alibi &&
         !cross_reads;
}

bool MachineConfig::is_dnc_access() const {
  return write == Write::Allocate && similarity == Similarity::Cosine && read_modes == ReadModes::Links &&
         key_value == KeyValue::Shared && slices() == 1;
}

bool MachineConfig::has_fused_access() const {
  return write == Write::Allocate && slices() == 1 && positions != Positions::Rope && positions != Positions::Alibi;
}

void MachineConfig::validate(const std::string& where) const {
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) fail("config", "{}: key '{}' must be a positive integer, got {}", where, key, v);
  };
  positive("input_size", input_size);
  if (input_vocab < 0) fail("config", "{}: key 'input_vocab' must be >= 0 (0: vector inputs)", where);
  if (input_vocab > 0 && input_size != input_vocab)
    fail("config", "{}: with token inputs (input_vocab {}) key 'input_size' must equal input_vocab, got {}", where,
         input_vocab, input_size);
  if (input_vocab > 0) positive("d_model", d_model);
  positive("output_size", output_size);
  positive("read_heads", read_heads);
  positive("write_heads", write_heads);
  positive("word_size", word_size);
  positive("layers", layers);
  if (write == Write::Allocate && memory_slots <= 0)
    fail("config", "{}: write=allocate needs key 'memory_slots' (N, the number of slots), a positive integer", where);
  if (memory_slots < 0) fail("config", "{}: key 'memory_slots' must be >= 0 (0: unbounded append)", where);
  if (write == Write::Append && write_heads != 1)
    fail("config", "{}: write=append writes one slot per step: key 'write_heads' must be 1, got {}", where,
         write_heads);
  if (memory_slices < 0 || read_heads % slices() != 0)
    fail("config", "{}: key 'memory_slices' ({}) must divide read_heads ({})", where, slices(), read_heads);
  if (recurrent()) {
    positive("hidden_size", hidden_size);
    if (positions != Positions::None)
      fail("config", "{}: key 'positions' must be 'none' for controller={} (a recurrent controller counts time itself)",
           where, name(controller));
  } else {
    positive("d_model", d_model);
    positive("d_ffn", d_ffn);
    if (positions == Positions::Learned) positive("max_positions", max_positions);
  }
  if (positions == Positions::Rope) {
    if (word_size % 2 != 0) fail("config", "{}: positions=rope needs an even word_size, got {}", where, word_size);
    if (key_value == KeyValue::Shared)
      fail("config", "{}: positions=rope rotates the keys; with key_value=shared the word read out would be rotated "
                     "too: use key_value=separate", where);
  }
  if (positions == Positions::Alibi && (write != Write::Append || bounded()))
    fail("config", "{}: positions=alibi needs an unbounded append memory (slot j holds position j)", where);
  if (!causal && (recurrent() || write != Write::Append || bounded() || read_modes != ReadModes::Content))
    fail("config", "{}: causal=false (bidirectional: every write before any read) needs controller=stateless, "
                   "write=append without memory_slots, read_modes=content", where);
  if (cross_reads && recurrent())
    fail("config", "{}: cross_reads (a decoder layer reading another machine's memory) needs controller=stateless",
         where);
  if (!causal && positions == Positions::Alibi)
    fail("config", "{}: positions=alibi is causal (a slot after the query gets no bias): use causal=true", where);
  if (!(rope_theta > 0)) fail("config", "{}: key 'rope_theta' must be positive", where);
  if (eviction != Eviction::Learned && !bounded())
    fail("config", "{}: eviction={} chooses the slot a full bounded memory overwrites: it needs write=append and "
                   "memory_slots > 0", where, name(eviction));
  if (sink_slots < 0 || (sink_slots > 0 && (eviction != Eviction::Window || sink_slots >= memory_slots)))
    fail("config", "{}: key 'sink_slots' ({}) is for eviction=window and must be below memory_slots ({})", where,
         sink_slots, memory_slots);
  if (clip_value < 0) fail("config", "{}: key 'clip_value' must be >= 0 (0: off)", where);
  if (layer_norm_eps <= 0) fail("config", "{}: key 'layer_norm_eps' must be positive", where);
  controllers::parse_activation(activation);
  if (naming == controllers::ParamNaming::GPT2 &&
      (recurrent() || cross_reads || !bias || norm != Norm::Layer || activation == "swiglu"))
    fail("config", "{}: GPT-2 parameter names need a stateless layer with LayerNorm, biases, no cross_reads and a "
                   "non-gated FFN", where);
}

namespace {

MachineConfig from_dnc(const json& j, const std::string& where) {
  models::DncConfig d = models::DncConfig::from_json(j, where);
  MachineConfig c;
  c.preset = Preset::Dnc;
  c.controller = d.controller == controllers::ControllerKind::Lstm ? Controller::Lstm : Controller::FeedForward;
  c.write = Write::Allocate;
  c.similarity = Similarity::Cosine;
  c.read_modes = ReadModes::Links;
  c.key_value = KeyValue::Shared;
  c.strength = d.strength == memory::Strength::Oneplus ? Strength::Oneplus : Strength::Softplus;
  c.input_size = d.input_size, c.output_size = d.output_size;
  c.hidden_size = d.hidden_size, c.memory_slots = d.memory_size, c.word_size = d.word_size;
  c.read_heads = d.num_read_heads, c.write_heads = d.num_write_heads, c.memory_slices = 1;
  c.clip_value = d.clip_value;
  return c;
}

MachineConfig from_sdnc(const json& j, const std::string& where) {
  models::SequenceSdncConfig s = models::SequenceSdncConfig::from_json(j, where);
  MachineConfig c = MachineConfig::transformer_corner();
  c.preset = Preset::Sdnc;
  c.positions = s.positions == models::Positions::Learned  ? Positions::Learned
                : s.positions == models::Positions::None ? Positions::None
                                                         : Positions::Sinusoidal;
  c.input_size = s.input_size, c.output_size = s.output_size;
  c.d_model = s.d_model, c.read_heads = s.nhead, c.word_size = s.d_model / s.nhead, c.memory_slices = s.nhead;
  c.layers = s.num_layers, c.d_ffn = s.dim_feedforward, c.activation = s.activation;
  c.max_positions = s.max_positions, c.layer_norm_eps = s.layer_norm_eps;
  c.clip_value = 0;
  return c;
}

}  // namespace

MachineConfig MachineConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail("config", "{}: a model config must be a JSON object", where);
  io::ConfigReader r(j, where);
  const std::string type = r.string("model_type", "machine");
  if (type == "dnc") return from_dnc(j, where);
  if (type == "sdnc") return from_sdnc(j, where);
  if (type != "machine") fail("config", "{}: model_type '{}' is not a memory machine", where, type);
  const auto& keys = machine_config_keys();
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    const std::string best = io::nearest_name(key, keys);
    fail("config", "{}: unknown key '{}'{}", where, printable(key),
         best.empty() ? "" : " (did you mean '" + best + "'?)");
  }
  MachineConfig c;
  c.controller = parse_controller(r.string("controller", name(c.controller)), where);
  c.write = parse_write(r.string("write", name(c.write)), where);
  c.similarity = parse_similarity(r.string("similarity", name(c.similarity)), where);
  c.read_modes = parse_read_modes(r.string("read_modes", name(c.read_modes)), where);
  c.key_value = parse_key_value(r.string("key_value", name(c.key_value)), where);
  c.positions = parse_positions(r.string("positions", name(c.positions)), where);
  c.strength = parse_strength(r.string("strength", name(c.strength)), where);
  c.eviction = parse_eviction(r.string("eviction", name(c.eviction)), where);
  c.sink_slots = r.non_negative_int("sink_slots", c.sink_slots);
  c.input_vocab = r.non_negative_int("input_vocab", 0);
  c.input_size = c.input_vocab > 0 && !r.has("input_size") ? c.input_vocab : r.required_positive_int("input_size");
  c.output_size = r.required_positive_int("output_size");
  c.read_heads = r.positive_int("read_heads", c.read_heads);
  c.write_heads = r.positive_int("write_heads", c.write_heads);
  c.word_size = r.positive_int("word_size", c.word_size);
  c.memory_slots = r.non_negative_int("memory_slots", c.memory_slots);
  c.memory_slices = r.non_negative_int("memory_slices", c.memory_slices);
  c.layers = r.positive_int("layers", c.layers);
  c.hidden_size = r.positive_int("hidden_size", c.hidden_size);
  c.d_model = r.positive_int("d_model", c.d_model);
  c.d_ffn = r.positive_int("d_ffn", c.d_ffn);
  c.activation = r.string("activation", c.activation);
  c.norm_first = r.boolean("norm_first", c.norm_first);
  c.norm = parse_norm(r.string("norm", name(c.norm)), where);
  c.bias = r.boolean("bias", c.bias);
  c.layer_norm_eps = r.positive_number("layer_norm_eps", c.layer_norm_eps);
  c.rope_theta = r.positive_number("rope_theta", c.rope_theta);
  c.causal = r.boolean("causal", c.causal);
  c.cross_reads = r.boolean("cross_reads", c.cross_reads);
  c.max_positions = r.positive_int("max_positions", c.max_positions);
  c.clip_value = r.clip_value("clip_value", c.clip_value);
  c.validate(where);
  return c;
}

json MachineConfig::to_json() const {
  if (preset == Preset::Dnc) {
    models::DncConfig d;
    d.input_size = input_size, d.output_size = output_size, d.hidden_size = hidden_size;
    d.memory_size = memory_slots, d.word_size = word_size, d.num_read_heads = read_heads;
    d.num_write_heads = write_heads, d.clip_value = clip_value;
    d.controller = controller == Controller::Lstm ? controllers::ControllerKind::Lstm
                                                  : controllers::ControllerKind::FeedForward;
    d.strength = strength == Strength::Oneplus ? memory::Strength::Oneplus : memory::Strength::Softplus;
    return d.to_json();
  }
  if (preset == Preset::Sdnc) {
    models::SequenceSdncConfig s;
    s.input_size = input_size, s.output_size = output_size, s.d_model = d_model, s.nhead = read_heads;
    s.num_layers = layers, s.dim_feedforward = d_ffn, s.activation = activation;
    s.positions = positions == Positions::Learned ? models::Positions::Learned
                  : positions == Positions::None  ? models::Positions::None
                                                  : models::Positions::Sinusoidal;
    s.max_positions = max_positions, s.layer_norm_eps = layer_norm_eps;
    return s.to_json();
  }
  json j = {{"model_type", "machine"},
          {"controller", name(controller)},
          {"write", name(write)},
          {"similarity", name(similarity)},
          {"read_modes", name(read_modes)},
          {"key_value", name(key_value)},
          {"positions", name(positions)},
          {"strength", name(strength)},
          {"input_size", input_size},
          {"input_vocab", input_vocab},
          {"output_size", output_size},
          {"read_heads", read_heads},
          {"write_heads", write_heads},
          {"word_size", word_size},
          {"memory_slots", memory_slots},
          {"memory_slices", slices()},
          {"layers", layers},
          {"hidden_size", hidden_size},
          {"d_model", d_model},
          {"d_ffn", d_ffn},
          {"activation", activation},
          {"norm_first", norm_first},
          {"norm", name(norm)},
          {"bias", bias},
          {"layer_norm_eps", layer_norm_eps},
          {"rope_theta", rope_theta},
          {"causal", causal},
          {"cross_reads", cross_reads},
          {"max_positions", max_positions},
          {"clip_value", clip_value > 0 ? json(clip_value) : json(nullptr)}};
  if (eviction != Eviction::Learned) j["eviction"] = name(eviction), j["sink_slots"] = sink_slots;
  return j;
}

std::string MachineConfig::dials_string() const {
  std::string s = fmt::format("controller={} write={} similarity={} read_modes={} key_value={}", name(controller),
                              name(write), name(similarity), name(read_modes), name(key_value));
  if (memory_slots > 0) s += fmt::format(" memory_slots={}", memory_slots);
  if (eviction != Eviction::Learned) s += fmt::format(" eviction={}", name(eviction));
  return s;
}

}  // namespace sdnc::machine
