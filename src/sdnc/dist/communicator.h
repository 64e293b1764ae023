// communicator.h — the seam between data-parallel training and the engine that moves the
// numbers: a group of P processes (ranks 0..P−1) that can sum buffers across all of them and
// copy rank 0's buffer to the others. Two implementations: SingleProcess (P = 1, every call
// is the identity) and Open MPI's (mpi_communicator.cpp, built when SDNC_MPI finds MPI). An
// NCCL communicator (device buffers, one per GPU) is meant to slot in behind the same calls.
//
// Every call is collective: every rank makes the same calls, in the same order, with buffers
// of the same length. A failure (a peer that died, a broken link) throws
// "[distributed] <what> failed: <the engine's reason>".
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace sdnc::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single" or "mpi", for messages and logs.
  virtual std::string name() const = 0;

  // In place: data[i] ← Σ over ranks of data[i], the same result on every rank.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  // Non-blocking allreduce_sum: starts the reduction of data[0, n) in place and returns at
  // once; the sums are there after wait_all(), which waits for every reduction started since
  // the last wait_all. data must stay untouched until then. Every rank starts the same
  // reductions in the same order.
  virtual void start_allreduce_sum(float* data, int64_t n) = 0;
  virtual void start_allreduce_sum(double* data, int64_t n) = 0;
  virtual void wait_all() = 0;
  // In place: data ← rank 0's data.
  virtual void broadcast(double* data, int64_t n) = 0;
  // Ends every rank of the job now with this exit code (after this rank's error message);
  // SingleProcess exits the process.
  [[noreturn]] virtual void abort(int code) = 0;
};

// P = 1: nothing to exchange.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single"; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void start_allreduce_sum(float*, int64_t) override {}
  void start_allreduce_sum(double*, int64_t) override {}
  void wait_all() override {}
  void broadcast(double*, int64_t) override {}
  [[noreturn]] void abort(int code) override;
};

// Joins the MPI job this process was started in (mpirun, srun; a process started alone is a
// job of one). Throws "[distributed] ..." in a build without MPI (SDNC_MPI off or MPI not
// found) — see no_mpi/mpi_communicator.cpp. At most one per process (MPI_Init runs once);
// MPI_Finalize runs when it is destroyed.
std::unique_ptr<Communicator> make_mpi_communicator();

// Whether this build has MPI.
bool mpi_available();

// The size of the job a launcher started this process in, read from its environment
// (Open MPI's OMPI_COMM_WORLD_SIZE, PMIx / Slurm's PMI_SIZE, SLURM_NTASKS), or 1.
int launcher_world_size();

}  // namespace sdnc::dist
