// commands.h — the subcommands of the `sdnc` tool, one file each.
#pragma once
#include <CLI/CLI.hpp>

namespace sdnc::cli {

// Each registers its subcommand on app; the callback runs it and returns the exit code.
void add_compare_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_trace_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);

}  // namespace sdnc::cli
