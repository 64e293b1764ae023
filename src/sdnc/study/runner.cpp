#include "sdnc/study/runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "sdnc/core/error.h"
#include "sdnc/dist/communicator.h"
#include "sdnc/io/atomic_file.h"
#include "sdnc/io/config.h"
#include "sdnc/study/report.h"
#include "sdnc/study/results.h"
#include "sdnc/train/trace_report.h"
#include "sdnc/train/trainer.h"

extern char** environ;

namespace sdnc::study {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

using Clock = std::chrono::steady_clock;

struct Child {
  const RunSpec* spec;
  Clock::time_point start;
};

std::string duration_text(double s) {
  auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

// This process's environment without an MPI launcher's variables: a run is one process, and
// `sdnc train` under a launcher's variables would join (or refuse) a job.
std::vector<std::string> run_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    bool launcher = false;
    for (std::string_view prefix : {"OMPI_", "PMIX_", "PMI_", "SLURM_NTASKS=", "SLURM_PROCID="})
      launcher = launcher || v.starts_with(prefix);
    if (!launcher) env.emplace_back(v);
  }
  return env;
}

pid_t spawn_run(const std::string& binary, const std::string& config, const std::string& log, int64_t threads) {
  static std::vector<std::string> env = run_environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {binary, "train", "--config", config, "--overwrite", "--quiet",
                                   "--threads", std::to_string(threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("study", "cannot start {}: {}", binary, std::strerror(rc));
  return pid;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// Whether a finished run's stored config is the config this grid gives it. A key the stored
// config lacks passes when this grid leaves it at its default (a key the trainer gained since).
bool same_config(const json& stored, const json& wanted) {
  for (const auto& [key, value] : stored.items())
    if (!wanted.contains(key) || wanted.at(key) != value) return false;
  for (const auto& [key, value] : wanted.items()) {
    if (stored.contains(key)) continue;
    bool is_default = false;
    for (const auto& k : train::train_config_keys())
      if (k.name == key) is_default = k.fallback == value;
    if (!is_default) return false;
  }
  return true;
}

// The finished runs of an earlier start, checked against this grid.
std::map<std::string, json> finished_runs(const std::string& dir, const Grid& grid) {
  std::map<std::string, json> done;
  for (json& j : read_results(dir + "/results.jsonl")) {
    const std::string id = j.at("id").get<std::string>();
    for (const RunSpec& r : grid.runs)
      if (r.id == id && !same_config(j.value("config", json::object()), r.config))
        fail("study", "{}: run {} was trained with another config than this grid gives it; use another --name (or "
                      "delete the folder)", dir, id);
    done[id] = std::move(j);
  }
  return done;
}

// The cores this process may run on (its affinity mask: a launcher may bind a rank to a core).
int64_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max<int64_t>(1, std::thread::hardware_concurrency());
}

// The ranks of this job on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE), at most `ranks`.
int64_t ranks_on_this_machine(int64_t ranks) {
  if (ranks <= 1) return 1;
  const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const long n = v ? std::strtol(v, nullptr, 10) : 0;
  return n > 0 ? std::min<int64_t>(n, ranks) : 1;
}

}  // namespace

int run_study(const Grid& grid, const StudyOptions& o) {
  const int64_t rank = o.comm ? o.comm->rank() : 0, ranks = o.comm ? o.comm->size() : 1;
  // Every rank waits here for every other (a one-number allreduce); returns the sums.
  auto meet = [&](std::vector<double> counts) {
    if (ranks > 1) o.comm->allreduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
    return counts;
  };
  const std::string dir = o.dir;
  const std::string grid_path = dir + "/grid.json";
  if (fs::exists(grid_path) && io::read_json_file(grid_path) != grid.source)
    fail("study", "{} holds another grid ({}); use another --name (or delete the folder)", dir, grid_path);
  std::map<std::string, json> done = finished_runs(dir, grid);
  meet({0});  // every rank has read the finished runs before rank 0 changes the folder
  if (rank == 0) {
    for (const char* sub : {"runs", "configs", "logs"}) fs::create_directories(dir + "/" + sub);
    write_file_atomically(grid_path, [&](std::ostream& out) { out << grid.source.dump(2) << "\n"; });
  }

  const int64_t cores = std::max<int64_t>(1, usable_cores() / ranks_on_this_machine(ranks));
  const int64_t jobs = o.jobs > 0 ? o.jobs : cores;
  const int64_t threads = o.threads_per_run > 0 ? o.threads_per_run : std::max<int64_t>(1, cores / jobs);
  const std::string binary = o.sdnc_binary.empty() ? fs::read_symlink("/proc/self/exe").string() : o.sdnc_binary;

  std::vector<const RunSpec*> pending;  // this rank's: every ranks-th run not finished earlier
  std::vector<json> results;
  size_t unfinished = 0;
  for (const RunSpec& r : grid.runs) {
    if (done.contains(r.id)) {
      results.push_back(done.at(r.id));
      continue;
    }
    if (rank == 0) {
      fs::remove_all(dir + "/runs/" + r.id);  // half-finished by an earlier start: redone from step 0
      write_file_atomically(dir + "/configs/" + r.id + ".json", [&](std::ostream& out) {
        json c = r.config;
        c["out_dir"] = dir + "/runs/" + r.id;
        out << c.dump(2) << "\n";
      });
    }
    if (static_cast<int64_t>(unfinished++ % static_cast<size_t>(ranks)) == rank) pending.push_back(&r);
  }
  meet({0});  // rank 0 has written every config and removed every half-finished run
  const size_t total = grid.runs.size(), kept = results.size();
  const std::string tag = ranks > 1 ? fmt::format("[study rank {}/{}]", rank, ranks) : "[study]";
  const std::string mine = ranks > 1 ? fmt::format(" (this rank: {})", pending.size()) : "";
  fmt::print("{} {}: {} runs ({} machines × {} tasks × {} seeds); {} finished earlier, kept; {} to run{}, {} at "
             "once, {} thread{} each\n",
             tag, dir, total, grid.machines.size(), grid.tasks.size(), grid.seeds, kept, unfinished, mine, jobs,
             threads, threads == 1 ? "" : "s");
  std::fflush(stdout);
  if (kept > 0 && ranks == 1) write_report(dir, grid, results);

  g_stop = 0;
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  const auto start = Clock::now();
  std::map<pid_t, Child> running;
  size_t next = 0, finished_now = 0;
  int failures = 0;
  while (next < pending.size() || !running.empty()) {
    while (!g_stop && next < pending.size() && static_cast<int64_t>(running.size()) < jobs) {
      const RunSpec* r = pending[next++];
      pid_t pid = spawn_run(binary, dir + "/configs/" + r->id + ".json", dir + "/logs/" + r->id + ".log", threads);
      running[pid] = {r, Clock::now()};
    }
    int status = 0;
    struct rusage usage {};
    pid_t pid = ::wait4(-1, &status, 0, &usage);
    if (pid < 0) {
      if (errno == EINTR) {
        if (g_stop)
          for (auto& [p, c] : running) ::kill(p, SIGINT);  // each child checkpoints and stops
        continue;
      }
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const RunSpec& r = *it->second.spec;
    const double wall = std::chrono::duration<double>(Clock::now() - it->second.start).count();
    running.erase(it);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (g_stop) continue;
    if (rc != 0) {
      ++failures;
      fmt::print(stderr, "[study] run {} failed (exit {}): {} (log: {}/logs/{}.log)\n", r.id, rc,
                 last_line(dir + "/logs/" + r.id + ".log"), dir, r.id);
      continue;
    }
    const std::string run_dir = dir + "/runs/" + r.id;
    RunLog log = read_run_log(run_dir + "/metrics.jsonl");
    train::TrainedRun trained = train::load_trained_run(run_dir);
    train::write_trace_report(*trained.model, *trained.task, trained.config, r.lengths.at(0), run_dir + "/trace",
                              r.id);
    json line = result_line(r, log, trained.model->module().num_parameters(), wall, "runs/" + r.id);
    // the run process's CPU time (user + system): what sizes a study, whatever else shares the machine
    line["cpu_seconds"] = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                          1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    append_result(dir + "/results.jsonl", line);
    results.push_back(line);
    if (ranks == 1) write_report(dir, grid, results);
    ++finished_now;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const size_t left = pending.size() - finished_now - static_cast<size_t>(failures);
    std::string acc;
    for (int64_t L : r.lengths) acc += fmt::format(" {:.0f}%@{}", 100 * line["accuracy"][std::to_string(L)].get<double>(), L);
    const std::string count = ranks > 1 ? fmt::format("{}/{}", finished_now, pending.size())
                                        : fmt::format("{}/{}", kept + finished_now, total);
    fmt::print("{} {} done  {}:{}  ({:.0f} s)  elapsed {}  ETA {}\n", tag, count, r.id, acc, wall, duration_text(elapsed),
               duration_text(elapsed / static_cast<double>(finished_now) * static_cast<double>(left)));
    std::fflush(stdout);
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (g_stop) {
    fmt::print(stderr, "{} interrupted: {} of {} runs finished (kept); run the same command to resume\n", tag,
               kept + finished_now, total);
    return 130;
  }
  if (ranks > 1) {  // every rank is done: rank 0 writes the pages of all of them
    const std::vector<double> sums = meet({static_cast<double>(finished_now), static_cast<double>(failures)});
    finished_now = static_cast<size_t>(sums[0]);
    failures = static_cast<int>(sums[1]);
    if (rank != 0) return failures > 0 ? 1 : 0;
    results = read_results(dir + "/results.jsonl");
    write_report(dir, grid, results);
  }
  fmt::print("[study] {} of {} runs finished; table {}/table.md, pages {}/index.html\n", kept + finished_now, total,
             dir, dir);
  if (failures > 0) {
    fmt::print(stderr, "[study] {} run{} failed (see the logs above); rerun the same command to retry them\n",
               failures, failures == 1 ? "" : "s");
    return 1;
  }
  return 0;
}

}  // namespace sdnc::study
