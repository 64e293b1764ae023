// `sdnc run` — runs a model from a checkpoint directory on the tensors of a safetensors file
// and writes its outputs (and, with --trace, every layer's read weights) to another.
#include <filesystem>

#include "commands.h"
#include "sdnc/models/model.h"
#include "sdnc/sdnc.h"

namespace sdnc::cli {

namespace {

struct RunOptions {
  std::string model_dir, input, output, form = "parallel";
  bool trace = false;
};

int run_model(const RunOptions& opt) {
  if (opt.form != "parallel" && opt.form != "recurrent")
    fail("run", "--form must be 'parallel' or 'recurrent', got '{}'", opt.form);
  std::unique_ptr<models::Model> model;
  try {
    model = models::load_model(opt.model_dir);
  } catch (const std::bad_alloc&) {
    fail("run", "{}: not enough memory to load this model", opt.model_dir);
  }
  SafetensorsFile in;
  try {
    in = load_safetensors(opt.input);
  } catch (const std::bad_alloc&) {
    fail("run", "{}: not enough memory to load this file", opt.input);
  }
  models::TensorMap inputs;
  for (const std::string& name : model->input_names()) {
    auto it = in.tensors.find(name);
    if (it == in.tensors.end())
      fail("run", "{}: no tensor '{}' (a {} model needs {})", opt.input, name, model->type(),
           fmt::join(model->input_names(), ", "));
    if (model->input_dtype() == DType::I64 && it->second.dtype() != DType::I64)
      fail("run", "{}: tensor '{}' must hold integer token ids, got {}", opt.input, name,
           dtype_name(it->second.dtype()));
    if (model->input_dtype() == DType::F32 && it->second.dtype() != DType::F32)
      fail("run", "{}: tensor '{}' must be F32, got {}", opt.input, name, dtype_name(it->second.dtype()));
    inputs[name] = it->second;
  }
  NoGradGuard no_grad;
  models::Trace trace;
  models::Form form = opt.form == "parallel" ? models::Form::Parallel : models::Form::Recurrent;
  models::TensorMap outputs;
  try {  // the model checks its inputs (shapes, token ranges); say which file they came from
    outputs = model->run(inputs, form, opt.trace ? &trace : nullptr);
  } catch (const Error& e) {
    fail("run", "{}: {}", opt.input, e.what());
  }
  for (auto& [k, v] : trace) outputs[k] = v;
  save_safetensors(opt.output, outputs, {{"model_type", model->type()}, {"form", opt.form}});
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model checkpoint on inputs from a safetensors file");
  cmd->add_option("--model", opt->model_dir, "checkpoint directory (config.json + model.safetensors)")->required();
  cmd->add_option("--input", opt->input, "input tensors (.safetensors): tokens, src and tgt, or inputs (dnc)")->required();
  cmd->add_option("--output", opt->output, "where to write logits, or outputs (dnc) (.safetensors)")->required();
  cmd->add_option("--form", opt->form, "execution form: parallel (default) | recurrent")
      ->check(CLI::IsMember({"parallel", "recurrent"}));
  add_threads_option(cmd);
  cmd->add_flag("--trace", opt->trace, "also write layers.{l}.read_weights per head");
  cmd->callback([opt, &exit_code] { exit_code = run_model(*opt); });
}

}  // namespace sdnc::cli
