// `sdnc verify` — the paper's claims, executed: random-weight models run in both execution
// forms (parallel Transformer / recurrent memory machine), and the largest difference per
// claim is printed. Exits non-zero if any exceeds its tolerance.
#include <cmath>

#include "commands.h"
#include "sdnc/memory/read_heads.h"
#include "sdnc/models/gpt2.h"
#include "sdnc/models/transformer.h"
#include "sdnc/sdnc.h"

namespace sdnc::cli {

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return INFINITY;
  auto x = a.to_doubles(), y = b.to_doubles();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::isnan(x[i] - y[i]) ? INFINITY : std::fabs(x[i] - y[i]));
  return m;
}

Tensor random_tokens(Generator& g, int64_t B, int64_t T, int64_t V) {
  Tensor t = Tensor::empty({B, T}, DType::I64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = g.randint(0, V);
  return t;
}

struct Row {
  std::string claim, check;
  double diff, tol;
};

// `broken` (1..7, 0: none) breaks the property of that row on purpose — the test that the row
// can fail (tests/cli/test_trust_cli.py): a changed input to one side, an overwritten slot,
// heads read from the wrong slice.
int run_verify(uint64_t seed, int broken) {
  NoGradGuard no_grad;
  Generator g(seed);
  std::vector<Row> rows;
  const int64_t B = 2, T = 16;

  // A decoder-only sDNC (GPT-2 architecture) with random weights.
  models::Gpt2Config gc;
  gc.vocab_size = 64, gc.n_positions = 64, gc.n_embd = 64, gc.n_layer = 2, gc.n_head = 4;
  models::Gpt2Model gpt(gc);
  gpt.init(g);
  Tensor tokens = random_tokens(g, B, T, gc.vocab_size);
  models::Trace par_trace, rec_trace;
  Tensor par = gpt.logits(tokens, models::Form::Parallel, &par_trace);
  Tensor rec_tokens = tokens.clone();
  if (broken == 1 || broken == 4) rec_tokens.data<int64_t>()[T - 1] = (tokens.data<int64_t>()[T - 1] + 1) % gc.vocab_size;
  Tensor rec = gpt.logits(rec_tokens, models::Form::Recurrent, &rec_trace);
  rows.push_back({"stateless controller", "decoder logits: parallel vs one step at a time", max_abs_diff(par, rec), 1e-5});

  // Write-once memory: decode step by step; no slot changes after it is written, and the
  // memory holds exactly the keys and values the parallel form projects.
  models::Gpt2Model::DecodeState state;
  double changed = 0;
  Tensor previous_keys, previous_values;
  int64_t previous_size = 0;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> col(B);
    for (int64_t b = 0; b < B; ++b) col[b] = tokens.data<int64_t>()[b * T + t];
    gpt.decode(Tensor::from_indices(col, {B, 1}), state);
    const machine::MemoryState& mem = state.layers[0].memory;  // keys, values [B, n, D] slot-major
    if (broken == 2 && t == T / 2) mem.keys.data<float>()[0] += 0.5f;    // slot 0 of batch 0 after later writes
    if (broken == 3 && t == T / 2) mem.values.data<float>()[0] += 0.5f;  // a value (not a key) of slot 0
    if (previous_keys.defined()) {  // keys and values of every slot written before this step
      for (auto [now_t, before_t] : {std::pair{&mem.keys, &previous_keys}, std::pair{&mem.values, &previous_values}}) {
        const Tensor& K = *now_t;
        const Tensor& P = *before_t;
        const int64_t n = K.size(1), row = K.size(2);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < previous_size; ++j)
            for (int64_t c = 0; c < row; ++c) {
              double now = K.data<float>()[(b * n + j) * row + c];
              double before = P.data<float>()[(b * previous_size + j) * row + c];
              changed = std::max(changed, std::fabs(now - before));
            }
      }
    }
    previous_keys = mem.keys.clone();
    previous_values = mem.values.clone();
    previous_size = mem.slots();
  }
  rows.push_back({"write-once memory", "largest change of any slot (key, value) after its write", changed, 0.0});
  {  // layer 0's memory vs the parallel projections of every position
    Tensor x = add(gpt.wte->forward(tokens), slice(gpt.wpe->weight, 0, 0, T));
    const machine::MachineLayer& layer = *gpt.stack->layers[0];
    std::vector<Tensor> parts =
        split(layer.self_attn->in_proj->forward(layer.norm1->forward(x)), {gc.n_embd, gc.n_embd, gc.n_embd}, -1);
    const machine::MemoryState& mem = state.layers[0].memory;
    rows.push_back({"write-once memory", "slot t = (k_t, v_t) of the parallel form (layer 0)",
                    std::max(max_abs_diff(mem.keys, parts[1]), max_abs_diff(mem.values, parts[2])), 1e-5});
  }
  double wdiff = 0;
  for (auto& [name, w] : par_trace) wdiff = std::max(wdiff, max_abs_diff(w, rec_trace.at(name)));
  rows.push_back({"content addressing = attention", "read weights per head: softmax(q.k/sqrt(d)) vs memory lookup", wdiff,
                  1e-5});

  {  // Multi-head attention = H independent read heads, each on its own slice of the memory.
    const int64_t H = 4, Dh = 8;
    Tensor q = Tensor::empty({B, H, T, Dh}), k = Tensor::empty({B, H, T, Dh}), v = Tensor::empty({B, H, T, Dh});
    g.fill_normal(q, 0, 1), g.fill_normal(k, 0, 1), g.fill_normal(v, 0, 1);
    AttentionOptions o;
    o.causal = true;
    Tensor joint = attention(q, k, v, Tensor(), o);
    double d = 0;
    // Each read head from its definition in plain ops (matmul, softmax: attention_reference),
    // on its own slice only — not the fused kernel again, so a kernel that mixed heads fails.
    for (int64_t h = 0; h < H; ++h) {
      int64_t hk = broken == 5 ? (h + 1) % H : h;  // broken: head h reads head h+1's memory slice
      Tensor one = attention_reference(slice(q, 1, h, h + 1), slice(k, 1, hk, hk + 1), slice(v, 1, hk, hk + 1),
                                       Tensor(), o);
      d = std::max(d, max_abs_diff(one, slice(joint, 1, h, h + 1)));
    }
    rows.push_back({"multi-head = read heads", "H-head attention vs H single read heads (plain ops)", d, 1e-5});
  }

  {  // Encoder-decoder: the decoder reads the encoder's memory and writes its own.
    models::TransformerConfig tc;
    tc.d_model = 32, tc.nhead = 4, tc.num_encoder_layers = 2, tc.num_decoder_layers = 2, tc.dim_feedforward = 64;
    tc.vocab_size = 32, tc.max_positions = 32;
    models::EncoderDecoderModel ed(tc);
    ed.init(g);
    Tensor src = random_tokens(g, B, 12, tc.vocab_size), tgt = random_tokens(g, B, 10, tc.vocab_size);
    models::Trace pt, rt;
    Tensor lp = ed.logits(src, tgt, models::Form::Parallel, &pt);
    Tensor rec_src = src.clone();
    if (broken == 6 || broken == 7) rec_src.data<int64_t>()[0] = (src.data<int64_t>()[0] + 1) % tc.vocab_size;
    Tensor lr = ed.logits(rec_src, tgt, models::Form::Recurrent, &rt);
    rows.push_back({"cross-attention = separate memories", "encoder-decoder logits: parallel vs recurrent",
                    max_abs_diff(lp, lr), 1e-5});
    double cw = 0;
    for (auto& [name, w] : pt) cw = std::max(cw, max_abs_diff(w, rt.at(name)));
    rows.push_back({"cross-attention = separate memories", "read weights (self, cross, encoder)", cw, 1e-5});
  }

  std::printf("sdnc verify — the claims of \"Transformers are Stateless DNCs\", executed (seed %llu)\n\n",
              static_cast<unsigned long long>(seed));
  std::printf("%-36s %-58s %10s %8s\n", "claim", "check", "max diff", "tol");
  bool ok = true;
  for (auto& r : rows) {
    bool pass = r.diff <= r.tol;
    ok &= pass;
    std::printf("%-36s %-58s %10.2e %8.0e %s\n", r.claim.c_str(), r.check.c_str(), r.diff, r.tol, pass ? "ok" : "FAIL");
  }
  std::printf("\n%s\n", ok ? "all claims hold" : "SOME CLAIMS FAILED");
  return ok ? 0 : 1;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto seed = std::make_shared<uint64_t>(0);
  auto broken = std::make_shared<int>(0);
  CLI::App* cmd = app.add_subcommand("verify", "Check the sDNC claims on random models in both execution forms");
  cmd->add_option("--break-row", *broken, "test only: break row N's property on purpose (it must FAIL)")
      ->check(CLI::Range(0, 7))
      ->group("");
  cmd->add_option("--seed", *seed, "random seed (default 0)")->check(kSeedRange);
  add_threads_option(cmd);
  cmd->callback([seed, broken, &exit_code] { exit_code = run_verify(*seed, *broken); });
}

}  // namespace sdnc::cli
