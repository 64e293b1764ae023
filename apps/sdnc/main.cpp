// sdnc — the command-line tool. One file per subcommand; this file wires them up and turns
// every error into one message and a non-zero exit.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "commands.h"
#include "sdnc/core/error.h"
#include "sdnc/io/config.h"

namespace {

// For an unexpected-arguments error: " (did you mean '--steps'?)" for each unknown flag that is
// one edit from a flag of the subcommand being parsed (io::nearest_name), else "".
std::string flag_suggestions(const CLI::App& app, const std::string& message) {
  std::vector<std::string> flags;
  for (const CLI::App* sub : app.get_subcommands())
    for (const CLI::Option* opt : sub->get_options())
      for (const std::string& name : opt->get_lnames()) flags.push_back("--" + name);
  std::string out;
  const size_t colon = message.find(": ");
  if (colon == std::string::npos || flags.empty()) return out;
  std::string word;
  for (size_t i = colon + 2; i <= message.size(); ++i) {
    if (i < message.size() && message[i] != ' ') {
      word += message[i];
      continue;
    }
    if (word.rfind("--", 0) == 0) {
      const std::string flag = word.substr(0, word.find('='));
      const std::string near = sdnc::io::nearest_name(flag, flags);
      if (!near.empty()) out += " (" + flag + ": did you mean '" + near + "'?)";
    }
    word.clear();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads that wait at a barrier sleep instead of spinning: on a machine whose cores
  // are busy, a spinning waiter takes the core its busy partner needs (2-thread training was
  // ~17x slower than 1-thread). libgomp reads the policy once, when it loads, so the tool
  // restarts itself with it set; an explicit OMP_WAIT_POLICY is respected.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  }
  CLI::App app{"sdnc — Transformers and Differentiable Neural Computers from one set of memory-machine parts"};
  app.require_subcommand(1);
  // Command-line mistakes (a missing value, an unknown flag) read like every other error.
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    std::string msg = std::string("sdnc: [cli] ") + e.what();
    if (failed && dynamic_cast<const CLI::ExtrasError*>(&e)) msg += flag_suggestions(*failed, e.what());
    return msg + " (see sdnc --help)\n";
  });
  app.set_version_flag("--version", "sdnc 0.1.0");
  int exit_code = 0;
  sdnc::cli::add_verify_command(app, exit_code);
  sdnc::cli::add_run_command(app, exit_code);
  sdnc::cli::add_compare_command(app, exit_code);
  sdnc::cli::add_study_command(app, exit_code);
  sdnc::cli::add_train_command(app, exit_code);
  sdnc::cli::add_eval_command(app, exit_code);
  sdnc::cli::add_generate_command(app, exit_code);
  sdnc::cli::add_embed_command(app, exit_code);
  sdnc::cli::add_trace_command(app, exit_code);
  sdnc::cli::add_demo_command(app, exit_code);
  // An unknown subcommand is a usage error with a suggestion, not "a subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::string near = sdnc::io::nearest_name(argv[1], names);
      std::fprintf(stderr, "sdnc: [cli] unknown subcommand '%s'%s (see sdnc --help)\n", argv[1],
                   near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error (missing value, unknown flag, a value out
    // of range) exits 2, the usual code for a command-line mistake.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "sdnc: [memory] out of memory (a size in the input or config is larger than this machine "
                         "can hold)\n");
    return 1;
  } catch (const sdnc::Error& e) {
    std::fprintf(stderr, "sdnc: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sdnc: unexpected error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
