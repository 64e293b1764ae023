#include "sdnc/dist/data_parallel.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/error.h"
#include "sdnc/io/crc32.h"
#include "sdnc/ops/shape.h"
#include "sdnc/tasks/objective.h"

namespace sdnc::dist {

void check_batch_size(int64_t batch_size, int ranks) {
  if (batch_size < ranks)
    fail("distributed", "batch_size {} is smaller than the {} ranks: every rank needs at least one sequence of the "
         "global batch", batch_size, ranks);
}

tasks::Batch shard_batch(const tasks::Batch& global, int rank, int size) {
  const int64_t B = global.targets.size(0);
  check_batch_size(B, size);
  const int64_t start = B * rank / size, end = B * (rank + 1) / size;
  NoGradGuard no_grad;
  auto rows = [&](const Tensor& t) { return t.defined() ? slice(t, 0, start, end) : t; };
  tasks::Batch shard;
  shard.inputs = rows(global.inputs);
  shard.targets = rows(global.targets);
  shard.mask = rows(global.mask);
  shard.tokens = rows(global.tokens);
  shard.src = rows(global.src);
  shard.tgt = rows(global.tgt);
  return shard;
}

double loss_share(tasks::TaskKind kind, const tasks::Batch& shard, const tasks::Batch& global) {
  const double all = tasks::loss_count(kind, global);
  return all > 0 ? tasks::loss_count(kind, shard) / all : 0.0;  // nothing scored: task_loss is 0 anyway
}

ReplicaSync::ReplicaSync(Communicator& comm, std::vector<Tensor> params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)), dtype_(params_.empty() ? DType::F32 : params_[0].dtype()) {
  for (const Tensor& p : params_) {
    if (p.dtype() != dtype_)
      fail("distributed", "the parameters mix {} and {}; the gradient bucket holds one dtype", dtype_name(dtype_),
           dtype_name(p.dtype()));
    total_ += p.numel();
  }
  if (dtype_ != DType::F32 && dtype_ != DType::F64)
    fail("distributed", "gradients of {} parameters cannot be reduced (F32 or F64)", dtype_name(dtype_));
  (dtype_ == DType::F32 ? bucket_f32_.resize(static_cast<size_t>(total_))
                        : bucket_f64_.resize(static_cast<size_t>(total_)));
  // The overlap's layout: parameters in reverse order, buckets of about bucket_bytes.
  int64_t at = 0, in_bucket = 0;
  for (size_t i = params_.size(); i-- > 0;) {
    const size_t k = order_.size();
    order_.push_back(i);
    offset_.push_back(at);
    position_[params_[i].impl_ptr().get()] = k;
    at += params_[i].numel();
    in_bucket += static_cast<int64_t>(params_[i].nbytes());
    bucket_of_.push_back(static_cast<int64_t>(bucket_end_.size()));
    if (in_bucket >= bucket_bytes || i == 0) bucket_end_.push_back(static_cast<int64_t>(k + 1)), in_bucket = 0;
  }
}

void ReplicaSync::pack(size_t k) {
  if (packed_[k]) return;
  packed_[k] = 1;
  const Tensor& p = params_[order_[k]];
  Tensor g = p.grad();
  char* dst = dtype_ == DType::F32 ? reinterpret_cast<char*>(bucket_f32_.data() + offset_[k])
                                   : reinterpret_cast<char*>(bucket_f64_.data() + offset_[k]);
  if (g.defined()) std::memcpy(dst, g.raw_data(), p.nbytes());
  else std::memset(dst, 0, p.nbytes());  // no gradient on this rank: zeros
  bucket_left_[static_cast<size_t>(bucket_of_[k])] -= 1;
}

void ReplicaSync::start_ready_buckets() {
  while (next_bucket_ < bucket_end_.size() && bucket_left_[next_bucket_] == 0) {
    const int64_t begin = next_bucket_ == 0 ? 0 : offset_[static_cast<size_t>(bucket_end_[next_bucket_ - 1])];
    const int64_t end = static_cast<size_t>(bucket_end_[next_bucket_]) < offset_.size()
                            ? offset_[static_cast<size_t>(bucket_end_[next_bucket_])]
                            : total_;
    if (dtype_ == DType::F32) comm_.start_allreduce_sum(bucket_f32_.data() + begin, end - begin);
    else comm_.start_allreduce_sum(bucket_f64_.data() + begin, end - begin);
    ++next_bucket_;
  }
}

void ReplicaSync::backward_and_sum(const Tensor& loss) {
  if (comm_.size() == 1) {
    loss.backward();
    sum_gradients();
    return;
  }
  packed_.assign(order_.size(), 0);
  bucket_left_.assign(bucket_end_.size(), 0);
  for (int64_t b : bucket_of_) bucket_left_[static_cast<size_t>(b)] += 1;
  next_bucket_ = 0;
  {
    LeafGradientHook hook([this](TensorImpl& leaf) {
      auto it = position_.find(&leaf);
      if (it == position_.end()) return;  // not one of the exchanged parameters
      pack(it->second);
      start_ready_buckets();
    });
    loss.backward();
  }
  started_in_backward_ = static_cast<int64_t>(next_bucket_);
  auto start = std::chrono::steady_clock::now();
  for (size_t k = 0; k < order_.size(); ++k) pack(k);  // parameters backward did not reach
  start_ready_buckets();
  comm_.wait_all();
  for (size_t k = 0; k < order_.size(); ++k) {  // unpack (into the gradient in place, or a new one)
    Tensor& p = params_[order_[k]];
    Tensor g = p.grad();
    if (!g.defined()) p.set_grad(g = Tensor::empty(p.shape(), dtype_));
    const char* src = dtype_ == DType::F32 ? reinterpret_cast<const char*>(bucket_f32_.data() + offset_[k])
                                           : reinterpret_cast<const char*>(bucket_f64_.data() + offset_[k]);
    std::memcpy(g.raw_data(), src, p.nbytes());
  }
  bucket_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void ReplicaSync::sum_gradients() {
  sum(0.0);  // meet the other ranks: what follows is the exchange alone
  auto start = std::chrono::steady_clock::now();
  auto run = [&](auto* bucket) {
    using T = std::remove_pointer_t<decltype(bucket)>;
    T* at = bucket;
    for (Tensor& p : params_) {  // pack (no gradient: zeros)
      Tensor g = p.grad();
      if (g.defined()) std::memcpy(at, g.template data<T>(), p.nbytes());
      else std::memset(at, 0, p.nbytes());
      at += p.numel();
    }
    comm_.allreduce_sum(bucket, total_);
    at = bucket;
    for (Tensor& p : params_) {  // unpack (into the gradient in place, or a new one)
      Tensor g = p.grad();
      if (!g.defined()) p.set_grad(g = Tensor::empty(p.shape(), dtype_));
      std::memcpy(g.template data<T>(), at, p.nbytes());
      at += p.numel();
    }
  };
  if (dtype_ == DType::F32) run(bucket_f32_.data());
  else run(bucket_f64_.data());
  bucket_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double ReplicaSync::sum(double value) {
  auto start = std::chrono::steady_clock::now();
  comm_.allreduce_sum(&value, 1);
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return value;
}

bool ReplicaSync::any(bool flag) { return sum(flag ? 1.0 : 0.0) > 0.0; }

void check_same_start(Communicator& comm, const nn::Module& model, int64_t step, const std::string& out_dir) {
  if (comm.size() == 1) return;
  uint32_t crc = 0;
  for (auto& [name, p] : model.named_parameters()) {
    crc = sdnc::crc32(p.raw_data(), p.nbytes(), crc);
  }
  double mine[2] = {static_cast<double>(step), static_cast<double>(crc)};
  double root[2] = {mine[0], mine[1]};
  comm.broadcast(root, 2);
  if (mine[0] != root[0] || mine[1] != root[1])
    fail("distributed", "rank {} starts at step {} with other weights than rank 0 (step {}): every rank must read the "
         "same checkpoint in {}, so the output folder must be on a filesystem every rank sees", comm.rank(),
         step, static_cast<int64_t>(root[0]), out_dir);
}

void kill_rank_if_asked(const Communicator& comm, int64_t step) {
  const char* env = std::getenv("SDNC_FAULT_KILL_RANK");
  if (!env || !*env) return;
  std::string v(env);
  size_t at = v.find('@');
  if (at == std::string::npos) return;
  if (std::strtol(v.c_str(), nullptr, 10) == comm.rank() && std::strtoll(v.c_str() + at + 1, nullptr, 10) == step)
    std::raise(SIGKILL);
}

}  // namespace sdnc::dist
