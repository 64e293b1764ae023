#include "sdnc/train/train_config.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sdnc/core/error.h"
#include "sdnc/io/config.h"
#include "sdnc/io/utf8.h"

namespace sdnc::train {

using nlohmann::json;

namespace {
constexpr double kBig = 2147483647.0;  // 2^31 − 1: every count fits an int and a tensor dim
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

const std::vector<ConfigKey>& train_config_keys() {
  using K = KeyType;
  static const std::vector<ConfigKey> keys = {
      // what to train
      {"model", K::String, "dnc", 0, 0, {"dnc", "sdnc", "machine", "encoder_decoder", "lstm"},
       "model to train (dnc, sdnc: presets of the memory machine; machine: any corner of its dials)"},
      {"task", K::String, "copy", 0, 0,
       {"copy", "repeat_copy", "associative_recall", "char_lm", "reverse", "sort", "addition", "mqar", "parity",
        "modular_arithmetic", "reverse_string", "duplicate_string", "bucket_sort", "babi", "graph_shortest_path"},
       "task (docs/tasks.md)"},
      {"seed", K::Int, 0, 0, kBig, {}, "seed of the initial weights and of every batch"},
      {"steps", K::Int, 1000, 1, kBig, {}, "optimizer steps to train for"},
      {"max_seconds", K::Number, 0, 0, kInf, {}, "stop after this many seconds of training (0: no limit)"},
      {"stop_at_step", K::Int, 0, 0, kBig, {},
       "stop (with a checkpoint) at this step, as if interrupted; the schedule still spans 'steps' (0: off)"},
      {"batch_size", K::Int, 16, 1, 65536, {}, "sequences per batch"},
      // optimizer and schedule
      {"optimizer", K::String, "adamw", 0, 0, {"adamw", "rmsprop", "rmsprop_tf1"}, "optimizer"},
      {"lr", K::Number, nullptr, 0, 10, {}, "learning rate (default 1e-3; rmsprop_tf1: 1e-4 as DeepMind)"},
      {"weight_decay", K::Number, 0.0, 0, 10, {}, "AdamW decoupled weight decay"},
      {"beta1", K::Number, 0.9, 0, 0.999999, {}, "AdamW β1"},
      {"beta2", K::Number, 0.999, 0, 0.999999999, {}, "AdamW β2"},
      {"eps", K::Number, nullptr, 0, 1, {}, "ε (default 1e-8; rmsprop_tf1: 1e-10)"},
      {"rms_decay", K::Number, nullptr, 0, 0.999999999, {}, "RMSProp decay (default 0.99; rmsprop_tf1: 0.9)"},
      {"momentum", K::Number, 0.0, 0, 0.999999, {}, "RMSProp momentum"},
      {"grad_clip", K::Number, 50.0, 0, kInf, {}, "global gradient-norm clip (0: off; DeepMind: 50)"},
      {"on_nonfinite", K::String, "stop", 0, 0, {"stop", "skip"}, "a NaN/Inf loss or gradient: stop, or skip the step"},
      {"warmup_steps", K::Int, 0, 0, kBig, {}, "linear learning-rate warm-up steps"},
      {"lr_schedule", K::String, "constant", 0, 0, {"constant", "cosine"}, "after warm-up"},
      {"min_lr_ratio", K::Number, 0.0, 0, 1, {}, "cosine decays to lr·min_lr_ratio"},
      // task
      {"num_bits", K::Int, nullptr, 1, 1024, {}, "bit tasks: bits per row (copy 6, repeat_copy 4, recall 6)"},
      {"min_length", K::Int, nullptr, 1, 100000, {}, "shortest task length drawn in training"},
      {"max_length", K::Int, nullptr, 1, 100000, {}, "longest task length drawn in training (char_lm: context)"},
      {"min_repeats", K::Int, 1, 1, 1000, {}, "repeat_copy: fewest repeats"},
      {"max_repeats", K::Int, 2, 1, 1000, {}, "repeat_copy: most repeats"},
      {"item_length", K::Int, 3, 1, 1000, {}, "associative_recall: rows per item"},
      {"num_symbols", K::Int, 10, 2, 100000, {}, "reverse / sort: alphabet size"},
      {"corpus", K::String, "data/kjv.txt", 0, 0, {}, "char_lm: text file (default: the KJV from setup.sh)"},
      {"vocab_size", K::Int, 8192, 4, 1 << 20, {}, "mqar: token ids V (keys [1, V/2), values [V/2, V))"},
      {"num_pairs", K::Int, 0, 0, 1 << 20, {}, "mqar: key-value pairs per sequence (0: length / 16)"},
      {"modulus", K::Int, 5, 2, 1000, {}, "modular_arithmetic: the modulus"},
      {"babi_dir", K::String, "../shared/data/babi/en", 0, 0, {},
       "babi: folder of qa1..qa20 train/test files (default: ../shared/data/babi/en above the source tree)"},
      {"curriculum_threshold", K::Number, 0.0, 0, kInf, {},
       "grow max_length when the mean training loss of a curriculum window falls below this (0: off)"},
      {"curriculum_increment", K::Int, 1, 1, 100000, {}, "curriculum: added to max_length"},
      {"curriculum_max_length", K::Int, 0, 0, 100000, {}, "curriculum: largest max_length (0: no limit)"},
      {"curriculum_every", K::Int, 50, 1, kBig, {}, "curriculum: its window of steps (independent of log_every)"},
      // evaluation
      {"eval_lengths", K::IntList, nullptr, 1, 100000, {}, "task lengths to evaluate at (default: max_length, 2·max_length)"},
      {"eval_batches", K::Int, 4, 1, 100000, {}, "held-out batches per evaluation length"},
      {"eval_every", K::Int, 0, 0, kBig, {}, "evaluate every K steps (0: only at the end)"},
      // models (each model reads its own keys)
      {"hidden_size", K::Int, 64, 1, 65536, {}, "dnc / lstm: controller size"},
      {"memory_size", K::Int, 16, 1, 65536, {}, "dnc: N slots"},
      {"num_read_heads", K::Int, 4, 1, 1024, {}, "dnc: R"},
      {"num_write_heads", K::Int, 1, 1, 1024, {}, "dnc: H"},
      {"clip_value", K::Number, 20.0, 0, kInf, {}, "dnc: controller/state/logit clip (0: off)"},
      {"controller", K::String, "lstm", 0, 0, {"stateless", "lstm", "feedforward"},
       "dnc / machine: controller (dnc: lstm or feedforward)"},
      // the memory machine's dials (docs/machine.md); the defaults are the DNC corner
      {"write", K::String, "allocate", 0, 0, {"append", "allocate"}, "machine: write head (append: one slot per step)"},
      {"similarity", K::String, "cosine", 0, 0, {"dot", "cosine"}, "machine: addressing rule"},
      {"read_modes", K::String, "links", 0, 0, {"content", "links"}, "machine: content only, or + temporal links"},
      {"key_value", K::String, "shared", 0, 0, {"separate", "shared"}, "machine: key and value per slot, or one word"},
      {"strength", K::String, "oneplus", 0, 0, {"softplus", "oneplus"}, "machine: cosine strength function"},
      {"read_heads", K::Int, 4, 1, 1024, {}, "machine: R read heads"},
      {"write_heads", K::Int, 1, 1, 1024, {}, "machine: H write heads (append: 1)"},
      {"word_size", K::Int, 16, 1, 65536, {}, "dnc / machine: W, the word size (per read head)"},
      {"memory_slots", K::Int, 0, 0, 1 << 20, {}, "machine: N slots (allocate: required; append: 0 = unbounded)"},
      {"eviction", K::String, "learned", 0, 0, {"learned", "window", "h2o", "tova"},
       "machine: which slot a full bounded append memory overwrites (docs/machine.md)"},
      {"sink_slots", K::Int, 0, 0, 1 << 20, {}, "machine: eviction=window keeps the first sink_slots slots"},
      {"memory_slices", K::Int, 0, 0, 1024, {}, "machine: S slices per slot (0: append R, allocate 1)"},
      {"norm", K::String, "layer", 0, 0, {"layer", "rms"}, "stateless machine: LayerNorm or RMSNorm"},
      {"activation", K::String, "gelu_tanh", 0, 0, {"gelu_tanh", "gelu", "relu", "swiglu"},
       "stateless machine: the FFN's hidden layer (swiglu: silu(gate)·up)"},
      {"bias", K::Bool, true, 0, 0, {}, "stateless machine: biases in Q/K/V, read-out and FFN"},
      {"rope_theta", K::Number, 10000.0, 1e-6, kInf, {}, "machine with positions=rope: RoPE's base θ"},
      {"layers", K::Int, nullptr, 1, 1024, {}, "machine: L layers (default: stateless 2, recurrent 1)"},
      {"d_model", K::Int, 64, 1, 65536, {}, "sdnc / encoder_decoder: width D"},
      {"num_layers", K::Int, 2, 1, 1024, {}, "sdnc: layers; encoder_decoder: layers of each stack"},
      {"num_heads", K::Int, 4, 1, 1024, {}, "sdnc / encoder_decoder: read heads (attention heads)"},
      {"d_ffn", K::Int, 256, 1, 1 << 20, {}, "sdnc / encoder_decoder: feed-forward width"},
      {"positions", K::String, nullptr, 0, 0, {"sinusoidal", "learned", "none", "rope", "alibi"},
       "sdnc / stateless machine (default sinusoidal; recurrent machines: none; sdnc: no rope, alibi)"},
      // output
      {"out_dir", K::String, "runs/train", 0, 0, {}, "where checkpoints and metrics go"},
      {"checkpoint_every", K::Int, 0, 0, kBig, {}, "checkpoint every K steps (0: only at the end and on Ctrl-C)"},
      {"log_every", K::Int, 50, 1, kBig, {}, "metrics line every K steps"},
      {"threads", K::Int, 0, 0, 1024, {}, "worker threads (0: SDNC_NUM_THREADS or all cores)"},
  };
  return keys;
}

bool key_may_change_on_resume(const std::string& key) {
  static const std::vector<std::string> keys = {"steps",      "max_seconds", "stop_at_step", "eval_every", "eval_batches",
                                                "eval_lengths", "log_every", "checkpoint_every", "threads",
                                                "out_dir"};
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

namespace {

const ConfigKey& find_key(const std::string& name, const std::string& where) {
  for (const auto& k : train_config_keys())
    if (k.name == name) return k;
  // Suggest the closest key (edit distance), for typos.
  std::vector<std::string> names;
  for (const auto& k : train_config_keys()) names.push_back(k.name);
  const std::string best = io::nearest_name(name, names);
  fail("config", "{}: unknown key '{}'{}", where, printable(name), best.empty() ? "" : " (did you mean '" + best + "'?)");
}

const char* type_words(const ConfigKey& k) {
  switch (k.type) {
    case KeyType::Int: return "an integer";
    case KeyType::Number: return "a number";
    case KeyType::String: return "a string";
    case KeyType::Bool: return "true or false";
    case KeyType::IntList: return "a list of integers";
  }
  return "?";
}

std::string range_words(const ConfigKey& k) {
  if (k.hi == kInf) return fmt::format(">= {}", k.lo);
  return fmt::format("in [{}, {}]", k.lo, k.hi);
}

}  // namespace

void TrainConfig::set(const ConfigKey& k, const json& v, const std::string& where) {
  auto bad = [&]() {
    fail("config", "{}: key '{}' must be {} {}, got {}", where, k.name, type_words(k),
         k.type == KeyType::String ? (k.choices.empty() ? "" : "(one of the listed choices)") : range_words(k),
         v.dump());
  };
  auto in_range = [&](double x) { return std::isfinite(x) ? x >= k.lo && x <= k.hi : false; };
  switch (k.type) {
    case KeyType::Int:
      if (!v.is_number_integer() || !in_range(v.get<double>())) bad();
      break;
    case KeyType::Number:
      if (!v.is_number() || !in_range(v.get<double>())) bad();
      break;
    case KeyType::Bool:
      if (!v.is_boolean()) bad();
      break;
    case KeyType::IntList:
      if (!v.is_array() || v.empty()) bad();
      for (const auto& x : v)
        if (!x.is_number_integer() || !in_range(x.get<double>())) bad();
      break;
    case KeyType::String:
      if (!v.is_string()) bad();
      if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), v.get<std::string>()) == k.choices.end()) {
        std::string list;
        for (auto& c : k.choices) list += (list.empty() ? "" : ", ") + c;
        fail("config", "{}: key '{}' must be one of {}, got {}", where, k.name, list, v.dump());
      }
      break;
  }
  values_[k.name] = v;
}

void TrainConfig::set_value(const std::string& key, const json& value, const std::string& where) {
  set(find_key(key, where), value, where);
}

TrainConfig TrainConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail("config", "{}: a training config must be a JSON object, got {}", where, j.type_name());
  TrainConfig c;
  for (auto& [key, value] : j.items()) {
    if (value.is_null()) fail("config", "{}: key '{}' is null (leave it out to get the default)", where, key);
    c.set(find_key(key, where), value, where);
  }
  return c;
}

void TrainConfig::set_from_string(const std::string& key, const std::string& text) {
  std::string where = "--" + key;
  const ConfigKey& k = find_key(key, "command line");
  if (!is_valid_utf8(text)) fail("config", "{}: the value is not valid UTF-8", where);
  json v;
  try {
    switch (k.type) {
      case KeyType::String: v = text; break;
      case KeyType::Bool: v = text == "true" ? json(true) : text == "false" ? json(false) : json(text); break;
      case KeyType::IntList: {
        v = json::array();
        size_t at = 0;
        while (at <= text.size()) {
          size_t comma = text.find(',', at);
          std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
          v.push_back(json::parse(part));
          if (comma == std::string::npos) break;
          at = comma + 1;
        }
        break;
      }
      default: v = json::parse(text);
    }
  } catch (const json::exception&) {
    v = text;  // reported by set() as the wrong type
  }
  set(k, v, where);
}

int64_t TrainConfig::i(const std::string& key) const { return values_.at(key).get<int64_t>(); }
double TrainConfig::d(const std::string& key) const { return values_.at(key).get<double>(); }
const std::string& TrainConfig::s(const std::string& key) const { return values_.at(key).get_ref<const std::string&>(); }
bool TrainConfig::b(const std::string& key) const { return values_.at(key).get<bool>(); }
std::vector<int64_t> TrainConfig::list(const std::string& key) const {
  return values_.at(key).get<std::vector<int64_t>>();
}

void TrainConfig::resolve() {
  for (const auto& k : train_config_keys())
    if (!values_.contains(k.name) && !k.fallback.is_null()) values_[k.name] = k.fallback;
  const std::string task = s("task"), model = s("model"), opt = s("optimizer");
  struct TaskDefaults {
    int64_t bits, min_len, max_len;
  };
  static const std::map<std::string, TaskDefaults> defaults = {
      {"copy", {6, 1, 8}},    {"repeat_copy", {4, 1, 2}}, {"associative_recall", {6, 2, 6}},
      {"char_lm", {8, 64, 64}}, {"reverse", {8, 1, 8}},   {"sort", {8, 1, 8}},
      {"addition", {8, 1, 4}},  {"mqar", {8, 64, 64}},    {"parity", {8, 1, 40}},
      {"modular_arithmetic", {8, 1, 40}}, {"reverse_string", {8, 1, 40}}, {"duplicate_string", {8, 1, 40}},
      {"bucket_sort", {8, 1, 40}}, {"babi", {8, 1400, 1400}}, {"graph_shortest_path", {8, 2, 10}}};
  const TaskDefaults& td = defaults.at(task);
  auto fill = [&](const char* key, json v) {
    if (!values_.contains(key)) values_[key] = std::move(v);
  };
  fill("num_bits", td.bits);
  fill("max_length", std::max(td.max_len, is_set("min_length") ? i("min_length") : td.max_len));
  fill("min_length", task == "char_lm" || task == "babi" ? i("max_length") : std::min(td.min_len, i("max_length")));
  fill("lr", opt == "rmsprop_tf1" ? 1e-4 : 1e-3);
  fill("eps", opt == "rmsprop_tf1" ? 1e-10 : 1e-8);
  fill("rms_decay", opt == "rmsprop_tf1" ? 0.9 : 0.99);
  const bool formal = task == "parity" || task == "modular_arithmetic" || task == "reverse_string" ||
                      task == "duplicate_string" || task == "bucket_sort";
  if (formal) fill("eval_lengths", json::array({i("max_length") + 1, 2 * i("max_length")}));  // beyond training
  if (task == "babi") fill("eval_lengths", json::array({i("max_length")}));
  fill("eval_lengths", json::array({i("max_length"), 2 * i("max_length")}));
  const bool stateless_machine = model == "machine" && s("controller") == "stateless";
  fill("positions", model == "machine" && !stateless_machine ? "none" : "sinusoidal");
  fill("layers", stateless_machine ? 2 : 1);
  if (model == "sdnc" && s("positions") != "sinusoidal" && s("positions") != "learned" && s("positions") != "none")
    fail("config", "model 'sdnc' takes positions sinusoidal, learned or none; rope and alibi need model 'machine'");
  if (model == "dnc" && s("controller") == "stateless")
    fail("config", "model 'dnc' has an lstm or feedforward controller; a stateless one needs model 'machine'");
  if (i("min_length") > i("max_length"))
    fail("config", "min_length {} is larger than max_length {}", i("min_length"), i("max_length"));
  if (task == "associative_recall" && i("min_length") < 2)
    fail("config", "key 'min_length' must be >= 2 for associative_recall (items), got {}", i("min_length"));
  if (task == "associative_recall")
    for (int64_t L : list("eval_lengths"))
      if (L < 2) fail("config", "key 'eval_lengths' must hold lengths >= 2 for associative_recall (items), got {}", L);
  check_task_lengths();
  if (i("min_repeats") > i("max_repeats"))
    fail("config", "min_repeats {} is larger than max_repeats {}", i("min_repeats"), i("max_repeats"));
  bool seq2seq = task == "reverse" || task == "sort" || task == "addition";
  if (model == "encoder_decoder" && !seq2seq)
    fail("config", "model 'encoder_decoder' trains on the seq2seq tasks (reverse, sort, addition), not '{}'", task);
  if (model != "encoder_decoder" && seq2seq)
    fail("config", "task '{}' is a seq2seq task: it needs model 'encoder_decoder', not '{}'", task, model);
  if ((model == "sdnc" || model == "encoder_decoder") && i("d_model") % i("num_heads") != 0)
    fail("config", "d_model {} is not divisible by num_heads {}", i("d_model"), i("num_heads"));
}

void TrainConfig::check_task_lengths() const {
  const std::string& task = s("task");
  std::vector<std::pair<std::string, int64_t>> lengths = {{"min_length", i("min_length")}, {"max_length", i("max_length")}};
  for (int64_t L : list("eval_lengths")) lengths.emplace_back("eval_lengths", L);
  for (const auto& [key, L] : lengths) {
    if (task == "mqar") {
      int64_t P = i("num_pairs") > 0 ? i("num_pairs") : std::max<int64_t>(1, L / 16);
      if (3 * P > L)
        fail("config", "key '{}': mqar length {} cannot hold {} pairs and their queries (needs length >= 3·pairs = {})",
             key, L, P, 3 * P);
      if (P > i("vocab_size") / 2 - 1)
        fail("config", "key '{}': mqar length {} needs {} distinct keys, more than vocab_size {} holds ({})", key, L, P,
             i("vocab_size"), i("vocab_size") / 2 - 1);
    }
    if (task == "graph_shortest_path" && (L < 2 || L > 64))
      fail("config", "key '{}': graph_shortest_path lengths are node counts in [2, 64], got {}", key, L);
  }
}

}  // namespace sdnc::train
