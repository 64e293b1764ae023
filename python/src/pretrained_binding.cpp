// pretrained_binding.cpp — the pretrained real models (docs/real_models.md) as runnable Python
// objects, bound through their public API only (models/llama.h, models/bert.h):
//   _LlamaModel   a Llama GGUF decoder (SmolLM2): tokenizer, logits in both forms, and
//   _Generation   one decoding run, token by token, with `sdnc generate`'s sampler (TokenSampler);
//   _Embedder     a sentence-transformers BERT folder (all-MiniLM-L6-v2): tokenizer, embeddings;
// and the model-package lookup of the CLI (io/model_package.h). Long calls release the GIL and,
// where they loop over tokens or sentences, check for Ctrl-C between items (KeyboardInterrupt).
#include <memory>

#include "bindings.h"
#include "sdnc/io/gguf.h"
#include "sdnc/io/model_package.h"
#include "sdnc/models/bert.h"
#include "sdnc/models/chat_template.h"
#include "sdnc/models/llama.h"

namespace sdnc::python {

namespace {

using models::LlamaModel;
using models::SentenceEmbedder;

// Raises KeyboardInterrupt (or what a signal handler raised) when Ctrl-C came in meanwhile.
void check_signals() {
  if (PyErr_CheckSignals() != 0) throw nb::python_error();
}

// Token ids [T] (T ≥ 1): int64 array or a list of ints.
std::vector<int64_t> token_ids(nb::handle ids, const char* where) {
  Tensor t = to_tensor(ids, where);
  if (t.numel() == 0) fail(where, "token_ids is empty");
  if (t.dtype() != DType::I64 || t.ndim() != 1)
    fail(where, "token_ids must be int64 ids of rank 1 [T], got {} {}", numpy_dtype_name(t.dtype()), shape_str(t.shape()));
  const int64_t* p = t.data<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

nb::str utf8_text(const std::string& bytes) {
  // Token bytes need not end on a character boundary: broken sequences become U+FFFD.
  return nb::steal<nb::str>(PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace"));
}

struct PyLlama {
  std::shared_ptr<const LlamaModel> m;
  std::string path;
};

// One decoding run: the prompt is written into the memories one token per step (interruptible
// between tokens), then each next() samples a token exactly as `sdnc generate --model` does and
// feeds it back, until `tokens` are made or the stop token is sampled.
struct PyGeneration {
  std::shared_ptr<const LlamaModel> m;
  LlamaModel::State state;
  std::vector<int64_t> prompt;
  std::vector<float> logits;  // [V] after the last token written
  TokenSampler sample;
  int64_t tokens = 0, stop = -1, made = 0, prompt_written = 0;
  bool finished = false;

  void write_prompt() {
    while (prompt_written < static_cast<int64_t>(prompt.size())) {
      {
        nb::gil_scoped_release release;
        m->step(prompt[prompt_written], state, logits.data());
      }
      ++prompt_written;
      check_signals();
    }
  }

  // The next token id, or -1 when the run is over.
  int64_t next() {
    write_prompt();
    if (finished || made >= tokens) return -1;
    nb::gil_scoped_release release;
    const int64_t id = sample(logits.data(), m->config().vocab);
    if (id == stop) {
      finished = true;
      return -1;
    }
    ++made;
    if (made < tokens) m->step(id, state, logits.data());
    return id;
  }
};

nb::dict llama_config(const models::LlamaConfig& c) {
  nb::dict d;
  d["layers"] = c.layers, d["d_model"] = c.d_model, d["heads"] = c.heads, d["kv_heads"] = c.kv_heads;
  d["head_dim"] = c.head_dim, d["d_ffn"] = c.d_ffn, d["vocab"] = c.vocab, d["context"] = c.context;
  d["rope_theta"] = c.rope_theta, d["rms_eps"] = c.rms_eps;
  return d;
}

nb::dict bert_config(const models::BertConfig& c) {
  nb::dict d;
  d["layers"] = c.layers, d["d_model"] = c.d_model, d["heads"] = c.heads, d["d_ffn"] = c.d_ffn;
  d["vocab"] = c.vocab, d["max_positions"] = c.max_positions, d["type_vocab"] = c.type_vocab;
  d["layer_norm_eps"] = c.layer_norm_eps;
  return d;
}

models::BertEncoder::Form bert_form(const std::string& form, const char* where) {
  if (form == "parallel") return models::BertEncoder::Form::Parallel;
  if (form == "recurrent") return models::BertEncoder::Form::Recurrent;
  fail(where, "form must be 'parallel' or 'recurrent', got '{}'", form);
}

}  // namespace

void bind_pretrained(nb::module_& m) {
  m.def("find_model", [](const std::string& name, const std::string& op) { return io::find_model(name, op.c_str()); });
  m.def("find_gguf", [](const std::string& name, const std::string& op) { return io::find_gguf(name, op.c_str()); });
  m.def("find_model_folder",
        [](const std::string& name, const std::string& op) { return io::find_model_folder(name, op.c_str()); });
  m.def("model_search_path", &io::model_search_path);
  m.def("gguf_architecture", [](const std::string& path) {
    gguf::File file = gguf::File::open(path);
    const gguf::Value* v = file.find("general.architecture");
    return v && v->type == gguf::ValueType::STRING ? v->s : std::string();
  });

  nb::class_<PyLlama>(m, "_LlamaModel")
      .def_static("load", [](const std::string& path) {
        nb::gil_scoped_release release;
        return PyLlama{std::make_shared<const LlamaModel>(LlamaModel::load(path)), path};
      })
      .def("path", [](const PyLlama& p) { return p.path; })
      .def("config", [](const PyLlama& p) { return llama_config(p.m->config()); })
      .def("machine_config", [](const PyLlama& p) { return from_json(p.m->config().machine_config()); })
      .def("bos_id", [](const PyLlama& p) { return p.m->tokenizer().bos_id(); })
      .def("eos_id", [](const PyLlama& p) { return p.m->tokenizer().eos_id(); })
      .def("token_id", [](const PyLlama& p, const std::string& token) { return p.m->tokenizer().id(token); })
      .def("tokenize", [](const PyLlama& p, const std::string& text, bool special) {
        nb::gil_scoped_release release;
        return p.m->tokenizer().encode(text, special);
      })
      .def("token_bytes", [](const PyLlama& p, int64_t id) {
        const std::string b = p.m->tokenizer().decode_token(id);
        return nb::bytes(b.data(), b.size());
      })
      .def("detokenize", [](const PyLlama& p, nb::handle ids) {
        const std::string bytes = p.m->tokenizer().decode(token_ids(ids, "LlamaModel.detokenize"));
        return utf8_text(bytes);
      })
      .def("chat_prompt", [](const PyLlama& p, const std::string& message) {
        const gguf::Value* t = p.m->file().find("tokenizer.chat_template");
        if (!t) fail("LlamaModel.generate", "{}: chat=True: the file has no tokenizer.chat_template", p.path);
        models::ChatPrompt chat = models::chat_prompt(t->s, message, p.path);
        return nb::make_tuple(chat.text, chat.end_of_turn);
      })
      .def("logits", [](const PyLlama& p, nb::handle ids, const std::string& form, int64_t memory_slots) {
        const char* where = "LlamaModel.logits";
        const std::vector<int64_t> tokens = token_ids(ids, where);
        const int64_t T = static_cast<int64_t>(tokens.size()), V = p.m->config().vocab;
        if (form != "parallel" && form != "recurrent") fail(where, "form must be 'parallel' or 'recurrent', got '{}'", form);
        if (form == "parallel" && memory_slots != 0)
          fail(where, "memory_slots applies to the recurrent form (the parallel form reads every slot)");
        Tensor out = Tensor::empty({T, V});
        float* y = out.data<float>();
        if (form == "parallel") {
          nb::gil_scoped_release release;
          const std::vector<float> all = p.m->forward(tokens);
          std::copy(all.begin(), all.end(), y);
        } else {
          LlamaModel::State state = p.m->initial_state(memory_slots);
          for (int64_t t = 0; t < T; ++t) {
            {
              nb::gil_scoped_release release;
              p.m->step(tokens[t], state, y + t * V);
            }
            check_signals();
          }
        }
        return to_numpy(out);
      })
      .def("generation", [](const PyLlama& p, nb::handle prompt_ids, int64_t tokens, double temperature, int64_t top_k,
                            double top_p, uint64_t seed, int64_t stop, int64_t memory_slots) {
        const char* where = "LlamaModel.generate";
        PyGeneration gen{p.m, {}, {}, {}, TokenSampler(temperature, top_k, top_p, seed, where)};
        if (tokens < 0) fail(where, "tokens must be >= 0, got {}", tokens);
        gen.prompt = token_ids(prompt_ids, where);
        for (int64_t id : gen.prompt)
          if (id < 0 || id >= p.m->config().vocab)
            fail(where, "prompt token id {} is outside the vocabulary [0, {})", id, p.m->config().vocab);
        gen.state = p.m->initial_state(memory_slots);
        gen.logits.assign(static_cast<size_t>(p.m->config().vocab), 0.0f);
        gen.tokens = tokens, gen.stop = stop;
        return gen;
      });

  nb::class_<PyGeneration>(m, "_Generation")
      .def("next", &PyGeneration::next)
      .def("position", [](const PyGeneration& g) { return g.state.position; })
      .def("slots_written", [](const PyGeneration& g) { return g.state.written(); })
      .def("memory_bytes", [](const PyGeneration& g) { return g.state.bytes(); });

  nb::class_<SentenceEmbedder>(m, "_Embedder")
      .def_static("load", [](const std::string& dir) {
        nb::gil_scoped_release release;
        return std::make_shared<SentenceEmbedder>(SentenceEmbedder::load(dir));
      })
      .def("config", [](const SentenceEmbedder& e) { return bert_config(e.encoder().config()); })
      .def("machine_config", [](const SentenceEmbedder& e) { return from_json(e.encoder().config().machine_config()); })
      .def("max_seq_length", &SentenceEmbedder::max_seq_length)
      .def("normalize", &SentenceEmbedder::normalize)
      .def("tokenize", [](const SentenceEmbedder& e, const std::string& text, bool special) {
        nb::gil_scoped_release release;
        return e.tokenizer().encode(text, special);
      })
      .def("embed", [](const SentenceEmbedder& e, const std::vector<std::string>& texts, const std::string& form) {
        const auto f = bert_form(form, "SentenceEmbedder.embed");
        const int64_t D = e.encoder().config().d_model, n = static_cast<int64_t>(texts.size());
        Tensor out = Tensor::empty({n, D});
        {  // the CLI's way (sdnc embed): every text tokenised, then length-grouped padded batches
          nb::gil_scoped_release release;
          std::vector<std::vector<int64_t>> ids;
          for (const std::string& text : texts) ids.push_back(e.tokens(text));
          const std::vector<std::vector<float>> vs = e.embed_tokens(ids, f);
          for (int64_t i = 0; i < n; ++i) std::copy(vs[i].begin(), vs[i].end(), out.data<float>() + i * D);
        }
        check_signals();
        return to_numpy(out);
      })
      .def("encode", [](const SentenceEmbedder& e, nb::handle ids, const std::string& form) {
        const char* where = "SentenceEmbedder.encode";
        const std::vector<int64_t> tokens = token_ids(ids, where);
        const auto f = bert_form(form, where);
        const int64_t D = e.encoder().config().d_model, T = static_cast<int64_t>(tokens.size());
        Tensor out = Tensor::empty({T, D});
        {
          nb::gil_scoped_release release;
          const std::vector<float> h = e.encoder().encode(tokens, f);
          std::copy(h.begin(), h.end(), out.data<float>());
        }
        return to_numpy(out);
      });
}

}  // namespace sdnc::python
