// The Communicator on MPI (Open MPI here): MPI_COMM_WORLD with errors returned rather than
// fatal, so that a failed collective (a rank that died) becomes an sdnc error naming it.
#include <mpi.h>

#include <vector>

#include "sdnc/core/error.h"
#include "sdnc/dist/communicator.h"

namespace sdnc::dist {

namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail("distributed", "{} failed: {} (another rank probably died; see its message above)", what,
       std::string(text, static_cast<size_t>(length)));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) fail("distributed", "MPI is already initialised in this process (one communicator at most)");
    int provided = 0;
    // Only the main thread calls MPI; the OpenMP workers compute between calls.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  void allreduce_sum(float* data, int64_t n) override { reduce(data, n, MPI_FLOAT); }
  void allreduce_sum(double* data, int64_t n) override { reduce(data, n, MPI_DOUBLE); }
  void start_allreduce_sum(float* data, int64_t n) override { start(data, n, MPI_FLOAT); }
  void start_allreduce_sum(double* data, int64_t n) override { start(data, n, MPI_DOUBLE); }
  void wait_all() override {
    std::vector<MPI_Request> requests;
    requests.swap(requests_);
    if (!requests.empty())
      check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }
  void broadcast(double* data, int64_t n) override {
    for (int64_t at = 0; at < n; at += kMaxCount)
      check(MPI_Bcast(data + at, count(n - at), MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

 private:
  static constexpr int64_t kMaxCount = int64_t{1} << 30;  // MPI counts are int
  static int count(int64_t left) { return static_cast<int>(left < kMaxCount ? left : kMaxCount); }
  template <class T>
  void reduce(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t at = 0; at < n; at += kMaxCount)
      check(MPI_Allreduce(MPI_IN_PLACE, data + at, count(n - at), type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  template <class T>
  void start(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t at = 0; at < n; at += kMaxCount) {
      MPI_Request r;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + at, count(n - at), type, MPI_SUM, MPI_COMM_WORLD, &r),
            "MPI_Iallreduce");
      requests_.push_back(r);
    }
  }
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;  // started, not yet waited for
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }
bool mpi_available() { return true; }

}  // namespace sdnc::dist
