// data_parallel.h — data-parallel training over a Communicator (communicator.h): P ranks,
// one model replica each, the same global batch of B sequences per step split into P shards.
//
// One step on rank r (trainer.cpp, marked "dist:"):
//   1. every rank draws the whole global batch from the step's generator (the same draw as a
//      single process) and keeps its rows [r·B/P, (r+1)·B/P): the union over ranks is exactly
//      the single-process batch, and every rank knows the global loss normaliser;
//   2. loss_r = task_loss(shard) · loss_share(shard, global): the shard's part of the global
//      mean (nats per sequence for bit tasks, per scored token otherwise), so Σ_r loss_r is the
//      single-process loss and Σ_r ∇loss_r its gradient;
//   3. ReplicaSync::backward_and_sum: backward, with each bucket of gradients reduced over the
//      ranks (allreduce) as soon as backward has finished its parameters — overlapped with the
//      rest of backward (autograd/engine.h's LeafGradientHook) — after which every rank holds
//      the single-process gradient and takes the same optimizer step.
#pragma once
#include <unordered_map>
#include <vector>

#include "sdnc/core/tensor.h"
#include "sdnc/dist/communicator.h"
#include "sdnc/nn/module.h"
#include "sdnc/tasks/task.h"

namespace sdnc::dist {

// Rank r's rows [r·B/P, (r+1)·B/P) of every tensor of a batch (copies; T unchanged, so a
// padded sequence stays padded exactly as in the global batch). Throws "[distributed] ..."
// when B < P (a rank would have no sequence).
tasks::Batch shard_batch(const tasks::Batch& global, int rank, int size);

// Throws "[distributed] batch_size B is smaller than the P ranks ..." when B < P.
void check_batch_size(int64_t batch_size, int ranks);

// The shard's weight in the global loss: count(shard) / count(global), where count is what
// task_loss divides by (tasks::loss_count).
double loss_share(tasks::TaskKind kind, const tasks::Batch& shard, const tasks::Batch& global);

// What the replicas exchange each step, timed.
//   sum_gradients: the gradients of a fixed list of parameters, packed into one contiguous
//     bucket (parameter order, F32 or F64 as the parameters), reduced with one allreduce_sum,
//     unpacked. A parameter without a gradient on a rank counts as zeros there (and gets a zero
//     gradient), so ranks whose graphs differ still agree. A one-number allreduce first lets
//     the ranks meet, so that the bucket's time is the exchange itself and the wait for the
//     slowest rank is timed apart.
//   sum / any: one number (the step's loss) or one flag (Ctrl-C, out of time) over all ranks,
//     so every rank makes the same decision at the same step.
//   backward_and_sum: loss.backward() while the gradients are exchanged in buckets: the
//     parameters in reverse order (the order backward tends to finish them), cut into buckets
//     of about bucket_bytes; a bucket's non-blocking allreduce starts once every parameter in it
//     has its final gradient and every earlier bucket has started (so every rank starts them in
//     the same order); after backward the rest are started, all are waited for and unpacked.
//     The same sums as sum_gradients (each element is reduced once over the ranks). P = 1:
//     backward, then sum_gradients.
class ReplicaSync {
 public:
  static constexpr int64_t kBucketBytes = int64_t{1} << 20;
  ReplicaSync(Communicator& comm, std::vector<Tensor> params, int64_t bucket_bytes = kBucketBytes);
  void sum_gradients();
  void backward_and_sum(const Tensor& loss);
  int64_t buckets() const { return static_cast<int64_t>(bucket_end_.size()); }
  // Of the last backward_and_sum, the buckets whose allreduce started before backward ended.
  int64_t buckets_started_in_backward() const { return started_in_backward_; }
  double sum(double value);
  bool any(bool flag);
  // Wall seconds so far: in the bucket (sum_gradients: packing, its allreduce, unpacking;
  // backward_and_sum: what backward did not hide — after backward, the last buckets, the wait
  // for every reduction and unpacking), and in the rest (sum_gradients' wait for the slowest
  // rank before the bucket, sum, any).
  double bucket_seconds() const { return bucket_seconds_; }
  double wait_seconds() const { return wait_seconds_; }
  int size() const { return comm_.size(); }

 private:
  Communicator& comm_;
  std::vector<Tensor> params_;
  DType dtype_;
  int64_t total_ = 0;
  std::vector<float> bucket_f32_;
  std::vector<double> bucket_f64_;
  // Overlap: params_[order_[k]] is the k-th parameter in the exchange buffer, at offset_[k];
  // bucket b holds positions [bucket_end_[b − 1], bucket_end_[b]) of order_.
  std::vector<size_t> order_;
  std::vector<int64_t> offset_, bucket_end_, bucket_of_;
  std::unordered_map<const TensorImpl*, size_t> position_;  // parameter → its k
  std::vector<int64_t> bucket_left_;                          // per step: parameters still to pack
  std::vector<char> packed_;
  size_t next_bucket_ = 0;                                    // the first bucket not started
  int64_t started_in_backward_ = 0;
  void pack(size_t k);
  void start_ready_buckets();
  double bucket_seconds_ = 0.0, wait_seconds_ = 0.0;
};

// Every rank must start (or resume) from the same weights and step: rank 0 broadcasts the
// step and a CRC-32 of its parameters, and a rank that differs throws "[distributed] rank r
// ...: the output folder must be one every rank reads (a shared filesystem)".
void check_same_start(Communicator& comm, const nn::Module& model, int64_t step, const std::string& out_dir);

// The crash tests' fault: with SDNC_FAULT_KILL_RANK=r@S, rank r kills itself (SIGKILL) at
// step S (counted from 1), before that step's gradient exchange. Otherwise nothing.
void kill_rank_if_asked(const Communicator& comm, int64_t step);

}  // namespace sdnc::dist
