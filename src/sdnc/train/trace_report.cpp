#include "sdnc/train/trace_report.h"

#include <filesystem>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/rng.h"
#include "sdnc/ops/ops.h"
#include "sdnc/tasks/objective.h"
#include "sdnc/train/model_builder.h"
#include "sdnc/viz/heatmap.h"
#include "sdnc/viz/png_writer.h"
#include "sdnc/viz/trace_page.h"

namespace sdnc::train {

namespace {

using viz::HeatmapOptions;

// Batch element 0 of [1, A, B, ...] as [A, B, ...].
Tensor first(const Tensor& t) {
  Shape s(t.shape().begin() + 1, t.shape().end());
  return reshape(t, s);
}

// [T, C] over time → [C, T] (rows = channels, columns = time), as people draw sequences.
Tensor channels_by_time(const Tensor& t) { return transpose(t, 0, 1); }

HeatmapOptions weights(std::string title, std::string x, std::string y) {
  HeatmapOptions o;
  o.title = std::move(title);
  o.x_label = std::move(x);
  o.y_label = std::move(y);
  o.vmin = 0.0;
  o.vmax = 1.0;
  return o;
}

std::vector<std::string> numbered(const std::string& what, int64_t n) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(what + " " + std::to_string(i));
  return out;
}

// A bit matrix [T, C] as text: one line per channel, one character per step.
std::string bit_rows(const Tensor& tc, const Tensor& mask, bool threshold_logits) {
  Tensor t = tc.to(DType::F32);
  int64_t T = t.size(0), C = t.size(1);
  std::string out;
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t s = 0; s < T; ++s) {
      float v = t.data<float>()[s * C + c];
      bool scored = !mask.defined() || mask.data<float>()[s] != 0.0f;
      if (!scored) out += '.';
      else if (threshold_logits) out += v > 0.0f ? '1' : '0';
      else out += v == 0.0f ? '0' : v == 1.0f ? '1' : '~';
    }
    out += '\n';
  }
  return out;
}

std::string printable(const Tensor& tokens) {
  std::string s;
  for (int64_t i = 0; i < tokens.numel(); ++i) {
    int64_t v = tokens.data<int64_t>()[i];
    s += (v >= 32 && v < 127) ? static_cast<char>(v) : v == '\n' ? '\n' : '?';
  }
  return s;
}

// Token ids separated by spaces; "." for a step whose target (when given) is not scored, or
// whose own value is −100.
std::string token_ids(const Tensor& tokens, const Tensor& targets) {
  std::string s;
  for (int64_t i = 0; i < tokens.numel(); ++i) {
    int64_t v = tokens.data<int64_t>()[i];
    bool scored = v >= 0 && (!targets.defined() || targets.data<int64_t>()[i] >= 0);
    s += (i ? " " : "") + (scored ? std::to_string(v) : std::string("."));
  }
  return s;
}

std::string symbols(const Tensor& tokens) {
  static const char* names[] = {"_", "<s>", "</s>", "+"};
  std::string s;
  for (int64_t i = 0; i < tokens.numel(); ++i) {
    int64_t v = tokens.data<int64_t>()[i];
    if (i) s += ' ';
    s += v < 0 ? "·" : v < 4 ? names[v] : std::to_string(v - 4);
  }
  return s;
}

Tensor argmax_last(const Tensor& logits) {  // [T, V] → I64 [T]
  int64_t T = logits.size(0), V = logits.size(1);
  Tensor f = logits.to(DType::F32), out = Tensor::empty({T}, DType::I64);
  for (int64_t t = 0; t < T; ++t) {
    int64_t best = 0;
    for (int64_t v = 1; v < V; ++v)
      if (f.data<float>()[t * V + v] > f.data<float>()[t * V + best]) best = v;
    out.data<int64_t>()[t] = best;
  }
  return out;
}

class Report {
 public:
  explicit Report(std::string dir) : dir_(std::move(dir)) {}
  void figure(const std::string& file, const viz::Image& image, const std::string& caption) {
    viz::write_png(dir_ + "/" + file, image);
    page.figures.push_back({file, caption});
  }
  viz::TracePage page;

 private:
  std::string dir_;
};

}  // namespace

std::string write_trace_report(const models::Model& model, const tasks::Task& task, const TrainConfig& config,
                               int64_t length, const std::string& dir, const std::string& title, uint64_t seed) {
  NoGradGuard no_grad;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("trace", "{}: cannot create the directory ({})", dir, ec.message());
  Generator g(rng_hash(rng_hash(static_cast<uint64_t>(config.i("seed")), 0x7ace), seed));
  tasks::Batch batch = task.sample(g, 1, length, length, true);
  models::Trace trace;
  Tensor logits = model_logits(model, batch, &trace);
  double loss = tasks::task_loss(task.kind(), logits, batch).item();
  tasks::Metrics m = tasks::task_metrics(task.kind(), logits, batch, loss);

  Report r(dir);
  r.page.title = fmt::format("{} — {} on {}, length {}", title, config.s("model"), config.s("task"), length);
  std::string summary;
  for (auto& [k, v] : m) summary += fmt::format("{}: {:.4g}\n", k, v);
  r.page.sections.push_back({"This example", summary});

  // Input, target and output.
  if (task.kind() == tasks::TaskKind::Bits) {
    Tensor in = first(batch.inputs), target = first(batch.targets), mask = first(batch.mask);
    Tensor out = sigmoid(first(logits));
    HeatmapOptions o = weights("input", "time step", "channel");
    std::vector<viz::Image> panels = {viz::render_heatmap(channels_by_time(in), o)};
    o.title = "target (scored steps)";
    panels.push_back(viz::render_heatmap(channels_by_time(mul(target, reshape(mask, {mask.size(0), 1}))), o));
    o.title = "output: sigmoid(logits)";
    panels.push_back(viz::render_heatmap(channels_by_time(out), o));
    r.figure("io.png", viz::side_by_side(panels, "", 3),
             "Input, target and output over time (rows: bit channels). The output is scored only on the target's "
             "steps (the mask).");
    r.page.sections.push_back({"Input (rows: channels, columns: steps; ~ is a non-binary flag)",
                               bit_rows(in, Tensor(), false)});
    r.page.sections.push_back({"Target (. = not scored)", bit_rows(target, mask, false)});
    r.page.sections.push_back({"Output, thresholded at 0.5", bit_rows(first(logits), mask, true)});
  } else if (task.kind() == tasks::TaskKind::Tokens && !batch.groups.empty()) {  // docs/tasks.md
    r.page.sections.push_back({"Input token ids", token_ids(first(batch.tokens), Tensor())});
    r.page.sections.push_back({"Target token ids (. = not scored)", token_ids(first(batch.targets), Tensor())});
    r.page.sections.push_back({"Predicted token ids (argmax) at the scored steps",
                               token_ids(argmax_last(first(logits)), first(batch.targets))});
  } else if (task.kind() == tasks::TaskKind::Tokens) {
    r.page.sections.push_back({"Input text", printable(first(batch.tokens))});
    r.page.sections.push_back({"Predicted next characters (argmax)", printable(argmax_last(first(logits)))});
  } else {
    r.page.sections.push_back({"Source", symbols(first(batch.src))});
    r.page.sections.push_back({"Target answer", symbols(first(batch.targets))});
    r.page.sections.push_back({"Predicted (argmax, teacher forcing)", symbols(argmax_last(first(logits)))});
  }

  // The memory machine's reads and writes.
  const std::string type = model.type();
  if (type == "dnc") {
    Tensor read = first(trace.at("read_weights"));    // [T, R, N]
    Tensor write = first(trace.at("write_weights"));  // [T, H, N]
    Tensor link = first(trace.at("link"));            // [T, H, N, N]
    int64_t T = read.size(0), R = read.size(1), H = write.size(1), N = read.size(2);
    r.figure("read_weights.png",
             viz::render_heatmap_panels(permute(read, {1, 0, 2}), weights("read", "memory slot", "time step"),
                                        numbered("read head", R), "read weights per read head"),
             "Read weights w^r_t: which memory slots each read head reads at each step.");
    r.figure("write_weights.png",
             viz::render_heatmap_panels(permute(write, {1, 0, 2}), weights("write", "memory slot", "time step"),
                                        numbered("write head", H), "write weights per write head"),
             "Write weights w^w_t: where each write head writes at each step (allocation and content).");
    r.figure("usage.png", viz::render_heatmap(first(trace.at("usage")), weights("usage u_t", "memory slot", "time step")),
             "Usage u_t of every slot as step t computes it (before its write): 1 = in use, 0 = free.");
    Tensor last_link = reshape(slice(link, 0, T - 1, T), {H, N, N});
    r.figure("link.png",
             viz::render_heatmap_panels(last_link, weights("link", "slot j (written earlier)", "slot i (written after j)"),
                                        numbered("write head", H), "temporal link matrix after the last step"),
             "Temporal link L[i, j] after the last step: slot i was written right after slot j. Reading forward "
             "follows L, backward follows its transpose.");
    Tensor mem = first(trace.at("memory"));  // [T, N, W]
    HeatmapOptions mo;
    mo.title = "memory after the last step";
    mo.x_label = "word element";
    mo.y_label = "memory slot";
    r.figure("memory.png", viz::render_heatmap(reshape(slice(mem, 0, T - 1, T), {N, mem.size(2)}), mo),
             "Memory M_T: one word per slot, after the last step's erase and add.");
  } else if (type == "sdnc" || type == "gpt2" || type == "encoder_decoder" || type == "encoder") {
    for (auto& [name, w] : trace) {  // "[encoder.]layers.{l}.[cross_]read_weights" [1, H, T, S]
      Tensor heads = first(w);
      bool cross = name.find("cross") != std::string::npos, enc = name.rfind("encoder.", 0) == 0;
      std::string file = name + ".png";
      std::string what = enc ? "encoder " : cross ? "decoder cross " : type == "encoder_decoder" ? "decoder self " : "";
      r.figure(file,
               viz::render_heatmap_panels(heads, weights("read", cross ? "source slot" : "memory slot (write step)",
                                                         "read step"),
                                          numbered("head", heads.size(0)), what + name),
               fmt::format("{}read weights of {}: each read head's content addressing over the write-once memory "
                           "(attention weights); row t reads slots {}.",
                           what, name, cross ? "of the encoder's memory" : enc ? "0..T-1 (all writes first)" : "0..t"));
    }
  } else if (type == "machine") {
    // Any corner of the memory machine: per layer, the parts this corner has (memory_machine.h).
    for (auto& [name, w] : trace) {
      const std::string suffix = "read_weights";
      if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string p = name.substr(0, name.size() - suffix.size());  // "layers.{l}."
      auto has = [&](const char* k) { return trace.count(p + k) > 0; };
      Tensor read = first(w);  // [T, R, n]
      int64_t T = read.size(0);
      r.figure(p + "read_weights.png",
               viz::render_heatmap_panels(permute(read, {1, 0, 2}), weights("read", "memory slot", "time step"),
                                          numbered("read head", read.size(1)), p + "read weights per read head"),
               "Read weights: which memory slots each read head reads at each step (content addressing" +
                   std::string(has("read_modes") ? ", mixed with reads along the temporal links)." : ")."));
      if (has("write_weights")) {
        Tensor ww = first(trace.at(p + "write_weights"));  // [T, H, n]
        r.figure(p + "write_weights.png",
                 viz::render_heatmap_panels(permute(ww, {1, 0, 2}), weights("write", "memory slot", "time step"),
                                            numbered("write head", ww.size(1)), p + "write weights per write head"),
                 "Write weights: where each step writes (append: the next free slot; allocation: usage and content).");
      }
      if (has("usage"))
        r.figure(p + "usage.png",
                 viz::render_heatmap(first(trace.at(p + "usage")), weights("usage u_t", "memory slot", "time step")),
                 "Usage of every slot as step t computes it (before its write): 1 = in use, 0 = free.");
      if (has("link")) {
        Tensor link = first(trace.at(p + "link"));  // [T, H, n, n]
        int64_t H = link.size(1), n = link.size(2);
        r.figure(p + "link.png",
                 viz::render_heatmap_panels(reshape(slice(link, 0, T - 1, T), {H, n, n}),
                                            weights("link", "slot j (written earlier)", "slot i (written after j)"),
                                            numbered("write head", H), p + "temporal link after the last step"),
                 "Temporal link L[i, j] after the last step: slot i was written right after slot j.");
      }
      if (has("read_modes")) {
        Tensor modes = first(trace.at(p + "read_modes"));  // [T, R, 1 + 2H]
        r.figure(p + "read_modes.png",
                 viz::render_heatmap_panels(permute(modes, {1, 0, 2}),
                                            weights("mode", "backward(H), forward(H), content", "time step"),
                                            numbered("read head", modes.size(1)), p + "read modes per read head"),
                 "Read modes: how much each read head follows the links backward, forward, or reads by content.");
      }
      if (has("memory")) {
        Tensor mem = first(trace.at(p + "memory"));  // [T, n, S·W]
        HeatmapOptions mo;
        mo.title = p + "memory (keys / words) after the last step";
        mo.x_label = "element";
        mo.y_label = "memory slot";
        r.figure(p + "memory.png", viz::render_heatmap(reshape(slice(mem, 0, T - 1, T), {mem.size(1), mem.size(2)}), mo),
                 "The memory after the last step's write: one row per slot.");
      }
    }
  } else {
    r.page.sections.push_back({"Memory", "This model has no external memory to show (an LSTM baseline)."});
  }
  std::string path = dir + "/index.html";
  viz::write_trace_page(path, r.page);
  return path;
}

}  // namespace sdnc::train
