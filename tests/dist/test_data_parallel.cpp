// Data-parallel equivalence, run as `mpirun -np P dist_equivalence`: for every kind of model
// the trainer builds (the DNC and Transformer presets, machine hybrids, LSTM, GPT-2 on char_lm,
// the encoder-decoder on reverse), P ranks that each train on their shard of the global batch
// (dist/data_parallel.h) reach, after k AdamW steps, the parameters that one process reaches
// on the whole batch — which every rank also computes itself, on a second replica, as the
// oracle. The only difference is the order in which a batch's contributions to a gradient are
// added, so:
//   F64: max |Δ| ≤ 1e-12, every model that computes in F64 (all but the DncModel of the dnc
//        preset, which is F32 only);
//   F32: max |Δ| ≤ 1e-5, every model (the tolerance's derivation: docs/distributed.md).
// Except where the exact gradient is zero: the attention key bias (softmax ignores a shift
// shared by all keys of a query), whose computed gradient is rounding noise of either sign;
// AdamW divides it by √v + eps and moves the entry by up to ~lr per step, in a direction set
// by the noise. Entries whose oracle gradient is at most 1000·ε·max|g| at some step are
// "noise entries": they are only held to AdamW's step bound, 2·k·lr·(1−β1)/√(1−β2), and
// their count is printed.
//
// A negative control shows the check can fail: dropping the loss share (so each rank's loss is
// its shard's own mean) moves the parameters far beyond the tolerance for P > 1.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "sdnc/dist/communicator.h"
#include "sdnc/dist/data_parallel.h"
#include "sdnc/ops/elementwise.h"
#include "sdnc/tasks/objective.h"
#include "sdnc/train/adamw.h"
#include "sdnc/train/grad_clip.h"
#include "sdnc/train/model_builder.h"
#include "sdnc/train/trainer.h"

using namespace sdnc;
using nlohmann::json;

namespace {

constexpr int kSteps = 3;
constexpr double kTolerance64 = 1e-12, kTolerance32 = 1e-5, kLr = 3e-3;
// AdamW moves an entry by at most lr·(1−β1)/√(1−β2) per step (Kingma & Ba, §2.1).
const double kNoiseBound = 2 * kSteps * kLr * 0.1 / std::sqrt(0.001);

struct Case {
  std::string name;
  json keys;           // train-config keys over the small defaults below
  bool f64 = true;     // the model computes in F64
};

// The batch in `dtype` (the bit tasks' inputs, targets and mask).
tasks::Batch cast(tasks::Batch b, DType dtype) {
  for (Tensor* t : {&b.inputs, &b.targets, &b.mask})
    if (t->defined() && t->dtype() == DType::F32) *t = t->to(dtype);
  return b;
}

// The trainer's logits (model_builder.h) with real-valued inputs in the model's dtype.
Tensor logits_of(const models::Model& model, const tasks::Batch& batch, DType dtype) {
  models::TensorMap in = train::model_inputs(model, batch);
  for (auto& [name, t] : in)
    if (t.dtype() == DType::F32 && dtype == DType::F64) t = t.to(DType::F64);
  models::Form form = model.has_parallel_form() ? models::Form::Parallel : models::Form::Recurrent;
  return model.run(in, form, nullptr).begin()->second;
}

// One replica: a model (seeded as the trainer does, then in dtype) and its optimizer.
struct Replica {
  std::unique_ptr<models::Model> model;
  std::unique_ptr<train::AdamW> optimizer;
};

Replica make_replica(const train::TrainConfig& config, const tasks::Task& task, DType dtype) {
  Replica r;
  r.model = models::make_model(train::model_config_for(config, task), "test");
  Generator g(static_cast<uint64_t>(config.i("seed")));
  r.model->init(g);
  if (dtype != DType::F32) r.model->module().to(dtype);
  r.optimizer = std::make_unique<train::AdamW>(r.model->module().parameters(), kLr);
  return r;
}

struct Difference {
  double worst = 0, worst_noise = 0;  // max |Δ| over the other entries, over the noise entries
  int64_t noise_entries = 0;
  int64_t buckets = 0, fewest_overlapped = 0;  // gradient buckets; the fewest started inside backward in a step
};

// Marks the entries whose gradient is at most 1000·ε·max|g| (all parameters, this step).
void mark_noise(const std::vector<Tensor>& params, DType dtype, std::vector<std::vector<char>>& noise) {
  std::vector<Tensor> g;
  double top = 0;
  for (const Tensor& p : params) {
    g.push_back(p.grad().defined() ? p.grad().to(DType::F64) : Tensor::zeros(p.shape(), DType::F64));
    for (int64_t j = 0; j < g.back().numel(); ++j) top = std::max(top, std::fabs(g.back().data<double>()[j]));
  }
  const double floor = 1000 * (dtype == DType::F64 ? 2.2e-16 : 1.2e-7) * top;
  noise.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    noise[i].resize(static_cast<size_t>(params[i].numel()));
    for (int64_t j = 0; j < g[i].numel(); ++j) noise[i][j] |= std::fabs(g[i].data<double>()[j]) <= floor;
  }
}

// k steps of the data-parallel replica and of the single-process oracle; the largest
// parameter differences between them.
Difference max_difference(dist::Communicator& comm, const train::TrainConfig& config, DType dtype, bool use_share) {
  std::unique_ptr<tasks::Task> task = train::make_task_for(config);
  Replica single = make_replica(config, *task, dtype), shard = make_replica(config, *task, dtype);
  // Buckets of 512 bytes: several per model, so the overlapped exchange starts some of them
  // while backward still runs.
  dist::ReplicaSync sync(comm, shard.model->module().parameters(), 512);
  const tasks::TaskKind kind = task->kind();
  std::vector<std::vector<char>> noise;
  int64_t overlapped = std::numeric_limits<int64_t>::max();
  for (int step = 0; step < kSteps; ++step) {
    Generator g(rng_hash(99, static_cast<uint64_t>(step)));
    tasks::Batch batch =
        cast(task->sample(g, config.i("batch_size"), config.i("min_length"), config.i("max_length"), false), dtype);
    // the oracle: the whole batch in this process
    tasks::task_loss(kind, logits_of(*single.model, batch, dtype), batch).backward();
    mark_noise(single.model->module().parameters(), dtype, noise);
    train::clip_grad_global_norm(single.model->module().parameters(), 50.0);
    single.optimizer->step();
    single.optimizer->zero_grad();
    // the replica: its shard, the loss share, the gradient allreduce
    tasks::Batch mine = dist::shard_batch(batch, comm.rank(), comm.size());
    Tensor loss = tasks::task_loss(kind, logits_of(*shard.model, mine, dtype), mine);
    if (use_share) loss = mul_scalar(loss, dist::loss_share(kind, mine, batch));
    sync.backward_and_sum(loss);
    overlapped = std::min(overlapped, sync.buckets_started_in_backward());
    train::clip_grad_global_norm(shard.model->module().parameters(), 50.0);
    shard.optimizer->step();
    shard.optimizer->zero_grad();
  }
  Difference d;
  d.buckets = sync.buckets(), d.fewest_overlapped = overlapped;
  auto a = single.model->module().named_parameters(), b = shard.model->module().named_parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    Tensor x = a[i].second.to(DType::F64), y = b[i].second.to(DType::F64);
    for (int64_t j = 0; j < x.numel(); ++j) {
      double diff = std::fabs(x.data<double>()[j] - y.data<double>()[j]);
      if (noise[i][j]) d.noise_entries++, d.worst_noise = std::max(d.worst_noise, diff);
      else d.worst = std::max(d.worst, diff);
    }
  }
  return d;
}

train::TrainConfig config_for(const json& keys, const std::string& corpus) {
  json all = {{"seed", 5},       {"batch_size", 5},  {"min_length", 1},  {"max_length", 4},
              {"hidden_size", 12}, {"memory_size", 6}, {"word_size", 4},  {"num_read_heads", 2},
              {"read_heads", 2},   {"d_model", 16},    {"d_ffn", 24},     {"num_layers", 1},
              {"num_heads", 2},    {"corpus", corpus}, {"eval_lengths", {4}}};
  for (auto& [k, v] : keys.items()) all[k] = v;
  train::TrainConfig c = train::TrainConfig::from_json(all, "test case");
  c.resolve();
  return c;
}

}  // namespace

int run(dist::Communicator& comm_ref);

int main() {
  std::unique_ptr<dist::Communicator> comm = dist::make_mpi_communicator();
  try {
    return run(*comm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[dist_equivalence] rank %d: %s\n", comm->rank(), e.what());
    comm->abort(1);
  }
}

int run(dist::Communicator& comm_ref) {
  dist::Communicator* comm = &comm_ref;
  const bool root = comm->rank() == 0;
  // A small corpus of our own for char_lm (the same file on every rank of this machine).
  std::string corpus = (std::filesystem::temp_directory_path() / "sdnc_dist_corpus.txt").string();
  if (root) {
    std::ofstream out(corpus);
    for (int i = 0; i < 400; ++i) out << "In the beginning was the word " << i * 7919 % 1000 << ".\n";
  }
  double ready = 1;
  comm->allreduce_sum(&ready, 1);  // the file is written before anyone reads it
  const std::vector<Case> cases = {
      {"dnc preset (lstm controller) on copy", {{"model", "dnc"}, {"task", "copy"}}, false},
      {"dnc preset (feedforward controller) on repeat_copy",
       {{"model", "dnc"}, {"controller", "feedforward"}, {"task", "repeat_copy"}}, false},
      {"machine: the DNC corner on copy", {{"model", "machine"}, {"controller", "lstm"}, {"memory_slots", 6}}},
      {"machine: the Transformer corner on copy",
       {{"model", "machine"}, {"controller", "stateless"}, {"write", "append"}, {"similarity", "dot"},
        {"read_modes", "content"}, {"key_value", "separate"}}},
      {"machine hybrid: stateless + allocate + links on copy",
       {{"model", "machine"}, {"controller", "stateless"}, {"memory_slots", 6}}},
      {"machine hybrid: lstm + append + dot on associative_recall",
       {{"model", "machine"}, {"controller", "lstm"}, {"write", "append"}, {"similarity", "dot"},
        {"read_modes", "content"}, {"task", "associative_recall"}, {"min_length", 2}}},
      {"machine on char_lm (one-hot inputs)",
       {{"model", "machine"}, {"controller", "stateless"}, {"write", "append"}, {"task", "char_lm"}}},
      {"lstm on copy", {{"model", "lstm"}, {"task", "copy"}}},
      {"sdnc on copy", {{"model", "sdnc"}, {"task", "copy"}}},
      {"sdnc (GPT-2) on char_lm", {{"model", "sdnc"}, {"task", "char_lm"}}},
      {"encoder_decoder on reverse", {{"model", "encoder_decoder"}, {"task", "reverse"}}},
  };
  int failures = 0;
  auto check = [&](const std::string& name, const json& keys, DType dtype) {
    const double tolerance = dtype == DType::F64 ? kTolerance64 : kTolerance32;
    Difference d = max_difference(*comm, config_for(keys, corpus), dtype, true);
    // With several buckets and P > 1, some allreduce must start while backward still runs.
    const bool overlapped = comm->size() == 1 || d.buckets < 2 || d.fewest_overlapped > 0;
    double bad = d.worst <= tolerance && d.worst_noise <= kNoiseBound && overlapped ? 0 : 1;
    comm->allreduce_sum(&bad, 1);  // a difference on any rank fails the case
    failures += bad > 0;
    if (root)
      std::printf("[dist_equivalence] %s  %s %-55s max |Δ| %.3g (tolerance %.0e) after %d steps, P = %d; "
                  "%lld noise entries: max |Δ| %.3g (bound %.3g); %lld buckets, >= %lld started inside backward\n",
                  bad > 0 ? "FAIL" : "ok  ", dtype_name(dtype), name.c_str(), d.worst, tolerance, kSteps,
                  comm->size(), static_cast<long long>(d.noise_entries), d.worst_noise, kNoiseBound,
                  static_cast<long long>(d.buckets), static_cast<long long>(d.fewest_overlapped));
  };
  for (const Case& c : cases) {
    if (c.f64) check(c.name, c.keys, DType::F64);
    check(c.name, c.keys, DType::F32);
  }
  if (comm->size() > 1) {  // the negative control: without the loss share the ranks disagree
    double diff =
        max_difference(*comm, config_for({{"model", "lstm"}, {"task", "copy"}}, corpus), DType::F64, false).worst;
    bool ok = diff > 1e3 * kTolerance64;
    failures += !ok;
    if (root)
      std::printf("[dist_equivalence] %s  negative control: without the loss share max |Δ| %.3g (must exceed %.0e)\n",
                  ok ? "ok  " : "FAIL", diff, 1e3 * kTolerance64);
  }
  if (root) std::filesystem::remove(corpus);
  if (root) std::printf("[dist_equivalence] %d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
