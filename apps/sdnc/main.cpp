// sdnc — the command-line tool. One file per subcommand; this file wires them up and turns
// every error into one message and a non-zero exit.
#include <cstdio>

#include "commands.h"
#include "sdnc/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"sdnc — Transformers and Differentiable Neural Computers from one set of memory-machine parts"};
  app.require_subcommand(1);
  // Command-line mistakes (a missing value, an unknown flag) read like every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("sdnc: [cli] ") + e.what() + " (see sdnc --help)\n";
  });
  app.set_version_flag("--version", "sdnc 0.1.0");
  int exit_code = 0;
  sdnc::cli::add_verify_command(app, exit_code);
  sdnc::cli::add_run_command(app, exit_code);
  sdnc::cli::add_compare_command(app, exit_code);
  sdnc::cli::add_train_command(app, exit_code);
  sdnc::cli::add_eval_command(app, exit_code);
  sdnc::cli::add_generate_command(app, exit_code);
  sdnc::cli::add_trace_command(app, exit_code);
  sdnc::cli::add_demo_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const sdnc::Error& e) {
    std::fprintf(stderr, "sdnc: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sdnc: unexpected error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
