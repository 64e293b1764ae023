// transformer.h — torch.nn.Transformer's stacks as sDNCs, and the two models built on them.
//
//   SdncStack (encoder)  = torch.nn.TransformerEncoder: "layers.{l}.*" [+ "norm.*"];
//                          bidirectional: all writes happen before any read.
//   SdncStack (decoder)  = torch.nn.TransformerDecoder: each layer reads/writes its own
//                          causal memory and reads the encoder's memory (cross-attention:
//                          the memory it reads ≠ the memory it writes).
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
#include "sdnc/models/sdnc_layer.h"
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
  LayerConfig layer_config(bool cross) const;
  // The encoder's layers as memory-machine dials and sizes (the Transformer corner, bidirectional).
  machine::MachineConfig encoder_machine_config() const;
};

class SdncStack : public nn::Module {
 public:
  SdncStack(const TransformerConfig& config, int64_t num_layers, bool decoder);
  // x [B, T, D]. Encoder: bidirectional, padding [B, T]. Decoder: causal, reads source
  // [B, S, D] (the encoder's output) with source_padding [B, S].
  Tensor forward_parallel(const Tensor& x, const Tensor& padding, const Tensor& source,
                          const Tensor& source_padding, Trace* trace, const std::string& prefix) const;
  // Recurrent encoder: per layer, write every position's slot one at a time, then read.
  Tensor encode_recurrent(const Tensor& x, const Tensor& padding, Trace* trace, const std::string& prefix) const;
  std::vector<std::shared_ptr<SdncLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;
  bool decoder;
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
  std::shared_ptr<SdncStack> encoder, decoder;
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
