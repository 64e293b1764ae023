#include "sdnc/train/model_builder.h"

#include <algorithm>

#include "sdnc/core/error.h"

namespace sdnc::train {

using nlohmann::json;

nlohmann::json model_config_for(const TrainConfig& c, const tasks::Task& task) {
  const std::string& model = c.s("model");
  int64_t longest = c.i("max_length");
  for (int64_t L : c.list("eval_lengths")) longest = std::max(longest, L);
  if (c.d("curriculum_threshold") > 0) longest = std::max(longest, c.i("curriculum_max_length"));
  if (model == "dnc")
    return {{"model_type", "dnc"},
            {"input_size", task.input_size()},
            {"output_size", task.output_size()},
            {"hidden_size", c.i("hidden_size")},
            {"memory_size", c.i("memory_size")},
            {"word_size", c.i("word_size")},
            {"num_read_heads", c.i("num_read_heads")},
            {"num_write_heads", c.i("num_write_heads")},
            {"clip_value", c.d("clip_value")},
            {"controller", c.s("controller")}};
  if (model == "machine") {
    json j = {{"model_type", "machine"},
              {"input_size", task.input_size()},
              {"output_size", task.output_size()},
              {"controller", c.s("controller")},
              {"write", c.s("write")},
              {"similarity", c.s("similarity")},
              {"read_modes", c.s("read_modes")},
              {"key_value", c.s("key_value")},
              {"strength", c.s("strength")},
              {"positions", c.s("positions")},
              {"read_heads", c.i("read_heads")},
              {"write_heads", c.i("write_heads")},
              {"word_size", c.i("word_size")},
              {"memory_slots", c.i("memory_slots")},
              {"eviction", c.s("eviction")},
              {"sink_slots", c.i("sink_slots")},
              {"memory_slices", c.i("memory_slices")},
              {"norm", c.s("norm")},
              {"activation", c.s("activation")},
              {"bias", c.b("bias")},
              {"rope_theta", c.d("rope_theta")},
              {"layers", c.i("layers")},
              {"hidden_size", c.i("hidden_size")},
              {"d_model", c.i("d_model")},
              {"d_ffn", c.i("d_ffn")},
              {"clip_value", c.d("clip_value")}};
    if (c.s("positions") == "learned") j["max_positions"] = task.max_steps(longest);
    // Token tasks feed ids through an input embedding (no one-hot [B, T, V] inputs).
    if (task.kind() == tasks::TaskKind::Tokens) j["input_vocab"] = task.input_size();
    return j;
  }
  if (model == "lstm")
    return {{"model_type", "lstm"},
            {"input_size", task.input_size()},
            {"output_size", task.output_size()},
            {"hidden_size", c.i("hidden_size")}};
  if (model == "sdnc" && task.kind() == tasks::TaskKind::Tokens)
    return {{"model_type", "gpt2"},
            {"vocab_size", task.input_size()},
            {"n_positions", task.max_steps(longest)},
            {"n_embd", c.i("d_model")},
            {"n_layer", c.i("num_layers")},
            {"n_head", c.i("num_heads")},
            {"n_inner", c.i("d_ffn")},
            {"activation_function", "gelu_new"}};
  if (model == "sdnc")
    return {{"model_type", "sdnc"},
            {"input_size", task.input_size()},
            {"output_size", task.output_size()},
            {"d_model", c.i("d_model")},
            {"nhead", c.i("num_heads")},
            {"num_layers", c.i("num_layers")},
            {"dim_feedforward", c.i("d_ffn")},
            {"positions", c.s("positions")},
            {"max_positions", task.max_steps(longest)}};
  // encoder_decoder
  return {{"model_type", "encoder_decoder"},
          {"d_model", c.i("d_model")},
          {"nhead", c.i("num_heads")},
          {"num_encoder_layers", c.i("num_layers")},
          {"num_decoder_layers", c.i("num_layers")},
          {"dim_feedforward", c.i("d_ffn")},
          {"activation", "relu"},
          {"norm_first", true},
          {"vocab_size", task.input_size()},
          {"max_positions", std::max(task.max_steps(longest), task.max_source_steps(longest))},
          {"pad_token_id", 0}};
}

namespace {

// tokens I64 [B, T] → F32 [B, T, V] one-hot.
Tensor one_hot(const Tensor& tokens, int64_t V) {
  Tensor out = Tensor::zeros({tokens.size(0), tokens.size(1), V});
  const int64_t* t = tokens.data<int64_t>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < tokens.numel(); ++i) o[i * V + t[i]] = 1.0f;
  return out;
}

}  // namespace

models::TensorMap model_inputs(const models::Model& model, const tasks::Batch& batch) {
  if (batch.src.defined()) return {{"src", batch.src}, {"tgt", batch.tgt}};
  if (batch.tokens.defined()) {
    if (model.input_dtype() == DType::I64) return {{"tokens", batch.tokens}};
    return {{"inputs", one_hot(batch.tokens, model.config_json().value("input_size", int64_t{256}))}};
  }
  return {{"inputs", batch.inputs}};
}

Tensor model_logits(const models::Model& model, const tasks::Batch& batch, models::Trace* trace) {
  models::Form form = model.has_parallel_form() ? models::Form::Parallel : models::Form::Recurrent;
  models::TensorMap out = model.run(model_inputs(model, batch), form, trace);
  return out.begin()->second;
}

}  // namespace sdnc::train
