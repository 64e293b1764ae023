#include "sdnc/models/model.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "sdnc/io/atomic_file.h"
#include "sdnc/io/config.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/ops/ops.h"
#include "sdnc/models/gpt2.h"
#include "sdnc/models/lstm_model.h"
#include "sdnc/models/transformer.h"

namespace sdnc::models {

namespace {

const Tensor& require(const TensorMap& inputs, const std::string& name, const std::string& model) {
  auto it = inputs.find(name);
  if (it == inputs.end()) fail("run", "{} needs an input tensor '{}'", model, name);
  return it->second;
}

const Tensor& require_f32(const TensorMap& inputs, const std::string& model) {
  const Tensor& x = require(inputs, "inputs", model);
  // F64 too: a model converted to F64 (Module::to) for the double-precision checks.
  if (x.dtype() != DType::F32 && x.dtype() != DType::F64)
    fail("run", "{}: input 'inputs' must be F32 [B, T, X], got {}", model, dtype_name(x.dtype()));
  return x;
}

class Gpt2Adapter : public Model {
 public:
  explicit Gpt2Adapter(const Gpt2Config& c) : m_(c) {}
  std::string type() const override { return "gpt2"; }
  nn::Module& module() override { return m_; }
  std::vector<std::string> input_names() const override { return {"tokens"}; }
  TensorMap run(const TensorMap& in, Form form, Trace* trace) const override {
    return {{"logits", m_.logits(require(in, "tokens", "gpt2"), form, trace)}};
  }
  nlohmann::json config_json() const override { return m_.config().to_json(); }
  void init(Generator& g) override { m_.init(g); }
  Gpt2Model m_;
};

class EncoderAdapter : public Model {
 public:
  explicit EncoderAdapter(const TransformerConfig& c) : m_(c) {}
  std::string type() const override { return "encoder"; }
  nn::Module& module() override { return m_; }
  std::vector<std::string> input_names() const override { return {"tokens"}; }
  TensorMap run(const TensorMap& in, Form form, Trace* trace) const override {
    return {{"logits", m_.logits(require(in, "tokens", "encoder"), form, trace)}};
  }
  nlohmann::json config_json() const override { return m_.config().to_json(); }
  void init(Generator& g) override { m_.init(g); }
  EncoderModel m_;
};

class EncoderDecoderAdapter : public Model {
 public:
  explicit EncoderDecoderAdapter(const TransformerConfig& c) : m_(c) {}
  std::string type() const override { return "encoder_decoder"; }
  nn::Module& module() override { return m_; }
  std::vector<std::string> input_names() const override { return {"src", "tgt"}; }
  TensorMap run(const TensorMap& in, Form form, Trace* trace) const override {
    return {{"logits", m_.logits(require(in, "src", "encoder_decoder"), require(in, "tgt", "encoder_decoder"), form,
                                 trace)}};
  }
  nlohmann::json config_json() const override { return m_.config().to_json(); }
  void init(Generator& g) override { m_.init(g); }
  EncoderDecoderModel m_;
};

// Every memory machine: the "dnc" and "sdnc" presets and any "machine" corner.
class MachineAdapter : public Model {
 public:
  explicit MachineAdapter(const machine::MachineConfig& c) : m_(c) {}
  std::string type() const override {
    switch (m_.config().preset) {
      case machine::Preset::Dnc: return "dnc";
      case machine::Preset::Sdnc: return "sdnc";
      case machine::Preset::None: break;
    }
    return "machine";
  }
  nn::Module& module() override { return m_; }
  std::vector<std::string> input_names() const override {
    return {m_.config().token_input() ? "tokens" : "inputs"};
  }
  DType input_dtype() const override { return m_.config().token_input() ? DType::I64 : DType::F32; }
  bool has_parallel_form() const override { return m_.config().has_parallel_form(); }
  // The dnc preset has one (recurrent) form and ignores `form`, as DncModel did; the sdnc
  // preset traces read weights as [B, H, T, T] (attention's layout), as SequenceSdnc did.
  TensorMap run(const TensorMap& in, Form form, Trace* trace) const override {
    const Tensor& x = m_.config().token_input() ? require(in, "tokens", type()) : require_f32(in, type());
    const auto preset = m_.config().preset;
    TensorMap out = {{"outputs", m_.forward(x, preset == machine::Preset::Dnc ? Form::Recurrent : form, trace)}};
    if (trace && preset == machine::Preset::Sdnc) {
      Trace legacy;
      for (auto& [k, v] : *trace)
        if (k.size() >= 12 && k.compare(k.size() - 12, 12, "read_weights") == 0) legacy[k] = permute(v, {0, 2, 1, 3});
      *trace = std::move(legacy);
    }
    return out;
  }
  nlohmann::json config_json() const override { return m_.config().to_json(); }
  void init(Generator& g) override { m_.init(g); }
  machine::MemoryMachine m_;
};

class LstmAdapter : public Model {
 public:
  explicit LstmAdapter(const LstmConfig& c) : m_(c) {}
  std::string type() const override { return "lstm"; }
  nn::Module& module() override { return m_; }
  std::vector<std::string> input_names() const override { return {"inputs"}; }
  DType input_dtype() const override { return DType::F32; }
  // One (recurrent) form; `form` is ignored and there is nothing to trace.
  TensorMap run(const TensorMap& in, Form, Trace*) const override {
    return {{"outputs", m_.forward(require_f32(in, "lstm"))}};
  }
  nlohmann::json config_json() const override { return m_.config().to_json(); }
  void init(Generator& g) override { m_.init(g); }
  LstmModel m_;
};

// Builds the model a parsed config describes; failures (sizes too large to allocate) name the config.
template <class Adapter, class Config>
std::unique_ptr<Model> build(const Config& c, const std::string& where) {
  try {
    return std::make_unique<Adapter>(c);
  } catch (const Error& e) {
    fail("config", "{}: cannot build the model it describes: {}", where, e.what());
  } catch (const std::bad_alloc&) {
    fail("config", "{}: not enough memory for the model it describes", where);
  }
}

}  // namespace

std::unique_ptr<Model> make_model(const nlohmann::json& config, const std::string& where) {
  io::ConfigReader r(config, where);
  if (!config.contains("model_type")) fail("config", "{}: missing key 'model_type'", where);
  std::string type = r.string("model_type", "");
  if (type == "gpt2") return build<Gpt2Adapter>(Gpt2Config::from_json(config, where), where);
  if (type == "encoder") return build<EncoderAdapter>(TransformerConfig::from_json(config, where), where);
  if (type == "encoder_decoder")
    return build<EncoderDecoderAdapter>(TransformerConfig::from_json(config, where), where);
  if (type == "dnc" || type == "sdnc" || type == "machine")
    return build<MachineAdapter>(machine::MachineConfig::from_json(config, where), where);
  if (type == "lstm") return build<LstmAdapter>(LstmConfig::from_json(config, where), where);
  fail("config", "{}: unknown model_type '{}' (expected gpt2, encoder, encoder_decoder, machine, dnc, sdnc, lstm)", where,
       type);
}

std::unique_ptr<Model> load_model(const std::string& dir) {
  std::string config_path = dir + "/config.json", weights_path = dir + "/model.safetensors";
  if (!std::filesystem::is_directory(dir)) fail("checkpoint", "{}: not a directory", dir);
  auto model = make_model(io::read_json_file(config_path), config_path);
  SafetensorsFile file = load_safetensors(weights_path);
  std::map<std::string, Tensor> state;
  static const std::regex gpt2_buffers(R"(h\.\d+\.attn\.(bias|masked_bias))");
  const bool gpt2 = model->type() == "gpt2";
  const bool tied_head = gpt2 && !model->module().state_dict().count("lm_head.weight");
  for (auto& [raw, t] : file.tensors) {
    std::string name = raw;
    if (gpt2) {  // Hugging Face layouts: optional prefix, attention-mask buffers, a tied head
      if (name.rfind("transformer.", 0) == 0) name = name.substr(12);
      if (std::regex_match(name, gpt2_buffers) || (tied_head && name == "lm_head.weight")) continue;
    }
    state[name] = t;
  }
  // A tied GPT-2 head is wte itself: a lm_head.weight in the file must then equal wte exactly (as
  // Hugging Face writes a tied head), or the config says "tie_word_embeddings": false.
  if (auto head = file.tensors.find("lm_head.weight"); tied_head && head != file.tensors.end()) {
    auto wte = state.find("wte.weight");
    auto same = [](const Tensor& a, const Tensor& b) {
      if (a.shape() != b.shape()) return false;
      if (a.dtype() == DType::F32 && b.dtype() == DType::F32)
        return std::equal(a.data<float>(), a.data<float>() + a.numel(), b.data<float>());
      return a.to_doubles() == b.to_doubles();
    };
    if (wte == state.end() || !same(head->second, wte->second))
      fail("checkpoint", "{}: lm_head.weight differs from wte.weight but {} ties them; an untied head needs "
                         "\"tie_word_embeddings\": false there", weights_path, config_path);
  }
  try {
    model->module().load_state_dict(state);
  } catch (const Error& e) {
    fail("checkpoint", "{}: {}", weights_path, e.what());
  }
  return model;
}

void save_model(Model& model, const std::string& dir) {
  std::filesystem::create_directories(dir);
  save_safetensors(dir + "/model.safetensors", model.module().state_dict(), {{"format", "pt"}});
  std::string text = model.config_json().dump(2) + "\n";
  write_file_atomically(dir + "/config.json", [&](std::ostream& out) { out << text; });
}

}  // namespace sdnc::models
