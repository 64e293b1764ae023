// model.h — any sdnc model behind one interface, for the command line and the tests:
// named input tensors in, named output tensors out, in either execution form.
//
//   gpt2            : {"tokens" I64 [B, T]}             → {"logits" [B, T, V]}
//   encoder         : {"tokens" I64 [B, T]}             → {"logits" [B, T, V]}
//   encoder_decoder : {"src" I64 [B, S], "tgt" [B, T]}  → {"logits" [B, T, V]}
//   machine, dnc, sdnc, lstm : {"inputs" F32 [B, T, X]} → {"outputs" [B, T, Y]} (logits)
//   machine with input_vocab : {"tokens" I64 [B, T]}             → {"outputs" [B, T, Y]}
// A checkpoint directory holds config.json ("model_type" picks the model; Hugging Face
// GPT-2 configs are recognised by "model_type": "gpt2") and model.safetensors.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/models/trace.h"
#include "sdnc/nn/module.h"

namespace sdnc::models {

using TensorMap = std::map<std::string, Tensor>;

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string type() const = 0;
  virtual nn::Module& module() = 0;
  virtual std::vector<std::string> input_names() const = 0;
  // The dtype every input must have: I64 token ids, or F32 for models of real vectors (dnc).
  virtual DType input_dtype() const { return DType::I64; }
  // Whether run() accepts Form::Parallel (a machine whose dials have no parallel form
  // refuses it; models with one form ignore `form`).
  virtual bool has_parallel_form() const { return true; }
  // Checks inputs (names, dtypes, shapes, token ranges) and runs the model.
  virtual TensorMap run(const TensorMap& inputs, Form form, Trace* trace) const = 0;
  virtual nlohmann::json config_json() const = 0;
  virtual void init(Generator& g) = 0;
};

// Builds a randomly initialisable model from a config object (`where` names it in errors).
std::unique_ptr<Model> make_model(const nlohmann::json& config, const std::string& where);
// Loads DIR/config.json and DIR/model.safetensors; every error names the file and tensor.
std::unique_ptr<Model> load_model(const std::string& dir);
// Writes DIR/config.json and DIR/model.safetensors atomically.
void save_model(Model& model, const std::string& dir);

}  // namespace sdnc::models
