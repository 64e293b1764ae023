// llama_dump — the C++ side of tests/golden/check_smollm.py: runs a GGUF Llama decoder
// (models/llama.h) on token ids and writes what it computed.
//   llama_dump FILE.gguf --tokens 1,2,3[;4,5,...] --out OUT.safetensors [--greedy N]
//              [--memory-slots N] [--form both|recurrent|all] [--activations f32|int8]
// OUT, per sequence i (';' separates them; the model is loaded once): logits [T, V] of every
// position: "recurrent.i" (the fast quantised step), "parallel.i" (the stack's parallel form;
// both, all) and "stack_steps.i" (the stack's recurrent steps; all); "memory_slots_used.i"
// I64 [1]; "greedy" I64 [N]: N tokens chosen by argmax through the fast step after the first
// sequence (with --memory-slots, a bounded memory; with --activations int8, the fast step's
// 8-bit activations).
// On bad input it prints one line "sdnc: [...] ..." and exits 1.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "sdnc/core/error.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/models/llama.h"

using namespace sdnc;

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: llama_dump FILE.gguf --tokens IDS --out OUT [--greedy N]\n"); return 2; }
  std::string path = argv[1], out, tokens_arg, form = "both", activations = "f32";
  int64_t greedy = 0, slots = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--tokens") tokens_arg = argv[i + 1];
    else if (a == "--out") out = argv[i + 1];
    else if (a == "--greedy") greedy = std::stoll(argv[i + 1]);
    else if (a == "--memory-slots") slots = std::stoll(argv[i + 1]);
    else if (a == "--form") form = argv[i + 1];
    else if (a == "--activations") activations = argv[i + 1];
    else { std::fprintf(stderr, "sdnc: [llama_dump] unknown flag '%s'\n", a.c_str()); return 2; }
  }
  if (form != "both" && form != "recurrent" && form != "all") {
    std::fprintf(stderr, "sdnc: [llama_dump] --form '%s' is not both, recurrent or all\n", form.c_str());
    return 2;
  }
  try {
    const models::LlamaModel m = models::LlamaModel::load(path);
    std::vector<std::vector<int64_t>> sequences(1);
    for (size_t s = 0; s < tokens_arg.size();) {
      size_t e = tokens_arg.find_first_of(",;", s);
      if (e == std::string::npos) e = tokens_arg.size();
      sequences.back().push_back(std::stoll(tokens_arg.substr(s, e - s)));
      if (e < tokens_arg.size() && tokens_arg[e] == ';') sequences.emplace_back();
      s = e + 1;
    }
    const int64_t V = m.config().vocab;
    std::map<std::string, Tensor> result;
    for (size_t i = 0; i < sequences.size(); ++i) {
      const std::vector<int64_t>& tokens = sequences[i];
      const int64_t T = static_cast<int64_t>(tokens.size());
      const std::string tag = "." + std::to_string(i);
      if (form == "both" || form == "all") result["parallel" + tag] = Tensor::from_vector(m.forward(tokens), {T, V});
      if (form == "all") result["stack_steps" + tag] = Tensor::from_vector(m.forward_steps(tokens), {T, V});
      models::LlamaModel::State st = m.initial_state(slots);
      if (activations == "int8") st.activations = models::LlamaModel::State::Activations::Int8;
      std::vector<float> rec(static_cast<size_t>(T * V));
      for (int64_t t = 0; t < T; ++t) m.step(tokens[t], st, rec.data() + t * V);
      result["recurrent" + tag] = Tensor::from_vector(rec, {T, V});
      if (i == 0 && greedy > 0) {
        std::vector<float> logits(rec.end() - V, rec.end());
        std::vector<int64_t> chosen;
        for (int64_t g = 0; g < greedy; ++g) {
          int64_t best = 0;
          for (int64_t v = 1; v < V; ++v)
            if (logits[v] > logits[best]) best = v;
          chosen.push_back(best);
          if (g + 1 < greedy) m.step(best, st, logits.data());
        }
        result["greedy"] = Tensor::from_indices(chosen, {greedy});
      }
      result["memory_slots_used" + tag] = Tensor::from_indices({st.written()}, {1});
    }
    save_safetensors(out, result);
  } catch (const Error& e) {
    std::fprintf(stderr, "sdnc: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sdnc: [llama_dump] %s\n", e.what());
    return 1;
  }
  return 0;
}
