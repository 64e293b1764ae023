// transformer.h — torch.nn.Transformer's stacks as sDNCs, and the two models built on them.
//
//   encoder stack        = torch.nn.TransformerEncoder: "layers.{l}.*" [+ "norm.*"], a machine
//                          stack (machine/machine_stack.h) with causal=false: all writes happen
//                          before any read.
//   decoder stack        = torch.nn.TransformerDecoder: a causal machine stack with cross_reads:
//                          each layer reads/writes its own memory and reads the encoder's
//                          (cross-attention: the memory it reads ≠ the memory it writes).
//
//   EncoderModel         : embed.weight [V, D], pos_embed.weight [P, D] (learned positions),
//                          encoder.* (TransformerEncoder names), head.weight [V, D], head.bias;
//                          its encoder is a bidirectional machine stack (machine/machine_stack.h:
//                          stateless, append, dot, content, separate, causal=false) + encoder.norm
//   EncoderDecoderModel  : src_embed.weight, tgt_embed.weight, pos_embed.weight,
//                          transformer.* (exactly torch.nn.Transformer.state_dict()),
//                          generator.weight [V, D], generator.bias
// Token embeddings are scaled by sqrt(D) (as "Attention is all you need"); padding comes
// from pad_token_id (a position holding it is never read) when the config sets one.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/machine/machine_stack.h"
#include "sdnc/models/trace.h"

namespace sdnc::models {

struct TransformerConfig {
  std::string model_type = "encoder_decoder";  // or "encoder"
  int64_t d_model = 512, nhead = 8, num_encoder_layers = 6, num_decoder_layers = 6, dim_feedforward = 2048;
  std::string activation = "relu";
  bool norm_first = false;
  double layer_norm_eps = 1e-5;
  bool final_norm = true;  // encoder.norm / decoder.norm (nn.Transformer always has them)
  int64_t vocab_size = 256, max_positions = 512;
  int64_t pad_token_id = -1;  // −1: no padding

  static TransformerConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // A stack's layers as memory-machine dials and sizes: the Transformer corner, bidirectional
  // (encoder) or causal with cross reads (decoder).
  machine::MachineConfig machine_config(bool decoder) const;
};

class EncoderModel : public nn::Module {
 public:
  explicit EncoderModel(const TransformerConfig& config);
  void init(Generator& g);
  // tokens [B, T] → logits [B, T, V]; trace: "layers.{l}.read_weights" [B, H, T, T].
  Tensor logits(const Tensor& tokens, Form form = Form::Parallel, Trace* trace = nullptr) const;
  const TransformerConfig& config() const { return config_; }
  std::shared_ptr<nn::Embedding> embed, pos_embed;
  std::shared_ptr<machine::MachineStack> encoder;  // "encoder.layers.{l}.*"
  std::shared_ptr<nn::LayerNorm> encoder_norm;     // "encoder.norm.*" (final_norm)
  std::shared_ptr<nn::Linear> head;

 private:
  TransformerConfig config_;
};

class EncoderDecoderModel : public nn::Module {
 public:
  explicit EncoderDecoderModel(const TransformerConfig& config);
  void init(Generator& g);
  // src [B, S], tgt [B, T] → logits [B, T, V]. Recurrent form: the encoder memory is
  // written once, then the decoder runs one target position per step, reading it.
  // trace: "encoder.layers.{l}.read_weights" [B,H,S,S], "layers.{l}.read_weights"
  // [B,H,T,T] (decoder self), "layers.{l}.cross_read_weights" [B,H,T,S].
  Tensor logits(const Tensor& src, const Tensor& tgt, Form form = Form::Parallel, Trace* trace = nullptr) const;
  const TransformerConfig& config() const { return config_; }
  std::shared_ptr<nn::Embedding> src_embed, tgt_embed, pos_embed;
  std::shared_ptr<machine::MachineStack> encoder, decoder;  // "transformer.{encoder,decoder}.layers.{l}.*"
  std::shared_ptr<nn::LayerNorm> encoder_norm, decoder_norm;  // "transformer.{encoder,decoder}.norm.*"
  std::shared_ptr<nn::Linear> generator;

 private:
  Tensor embed_tokens(const nn::Embedding& table, const Tensor& tokens, int64_t first_position) const;
  TransformerConfig config_;
};

// Token checks shared by the models: integer [B, T], inside [0, V), within max positions.
void check_tokens(const char* op, const Tensor& tokens, int64_t vocab, int64_t max_positions, const char* name);
// [B, T] I64 padding flags from pad_token_id (undefined when pad < 0 or no token is padding).
Tensor padding_from_tokens(const Tensor& tokens, int64_t pad_token_id);

}  // namespace sdnc::models
