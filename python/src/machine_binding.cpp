// machine_binding.cpp — sdnc.Machine (one machine::MemoryMachine: built from a config dict or
// loaded from a checkpoint folder) with its state, and sdnc.Model for the other checkpoint
// models (GPT-2, encoder, encoder-decoder, LSTM) behind models::Model. Every call that computes
// releases the GIL and runs without autograd (inference; training goes through sdnc.train).
#include <chrono>
#include <filesystem>

#include "bindings.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/rng.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/models/model.h"

namespace sdnc::python {

namespace {

using machine::MemoryMachine;

models::Form parse_form(const std::string& form, const char* where) {
  if (form == "parallel") return models::Form::Parallel;
  if (form == "recurrent") return models::Form::Recurrent;
  fail(where, "form must be 'parallel' or 'recurrent', got '{}'", form);
}

// A MemoryMachine, owned alone or inside the models::Model it was loaded with.
struct PyMachine {
  std::shared_ptr<MemoryMachine> m;
  std::shared_ptr<models::Model> model;  // set when loaded from a checkpoint folder
  DType dtype = DType::F32;              // of the parameters, so of the inputs
  models::Trace trace;                   // of the last forward(..., trace=True)
};

// The recurrent state of a batch of B sequences, advanced by Machine.step.
struct PyState {
  MemoryMachine::State state;
  int64_t batch = 0;
  const MemoryMachine* owner = nullptr;
};

// x must be a floating array of the given rank whose last dim is the machine's input width.
Tensor machine_input(const PyMachine& p, nb::handle x, int64_t rank, const char* where, const char* letters) {
  const MemoryMachine& m = *p.m;
  Tensor t = to_tensor(x, where);
  if (m.config().token_input()) {  // token ids: [B, T] for forward, [B] for step
    if (t.dtype() != DType::I64 || t.ndim() != rank - 1)
      fail(where, "x must be token ids, int64 of rank {} (the machine's input_vocab is {}), got {} {}", rank - 1,
           m.config().input_vocab, numpy_dtype_name(t.dtype()), shape_str(t.shape()));
    return t;
  }
  const DType want = p.dtype;
  if (t.dtype() != want)
    fail(where, "x must be {} (the machine's parameters), got {}", numpy_dtype_name(want), numpy_dtype_name(t.dtype()));
  if (t.ndim() != rank || t.size(-1) != m.config().input_size)
    fail(where, "x must have shape {} with X = input_size = {}, got {}", letters, m.config().input_size,
         shape_str(t.shape()));
  return t;
}

nb::dict trace_dict(const models::Trace& trace) {
  nb::dict out;
  for (const auto& [name, t] : trace) out[name.c_str()] = to_numpy(t);
  return out;
}

std::shared_ptr<models::Model> build_model(const nlohmann::json& config, const std::string& where) {
  return std::shared_ptr<models::Model>(models::make_model(config, where).release());
}

PyMachine machine_from_model(std::shared_ptr<models::Model> model) {
  auto* mm = dynamic_cast<MemoryMachine*>(&model->module());
  SDNC_CHECK(mm, "python", "a {} model is not a memory machine", model->type());
  PyMachine p;
  p.m = std::shared_ptr<MemoryMachine>(model, mm);
  if (auto params = mm->parameters(); !params.empty()) p.dtype = params[0].dtype();
  p.model = std::move(model);
  return p;
}

// A checkpoint folder (config.json + model.safetensors), or a training run's folder holding one
// in model/.
std::string model_folder(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path + "/config.json") && fs::exists(path + "/model/config.json")) return path + "/model";
  return path;
}

}  // namespace

void bind_machine(nb::module_& m) {
  nb::class_<PyState>(m, "MachineState", "The recurrent state of B sequences (memory, reads, controller), "
                                         "advanced one position by each Machine.step.")
      .def_prop_ro("position", [](const PyState& s) { return s.state.position; }, "Steps taken so far.")
      .def_prop_ro("batch", [](const PyState& s) { return s.batch; }, "B, the number of sequences.")
      .def_prop_ro("slots", [](const PyState& s) {
        return s.state.layers.empty() ? int64_t{0} : s.state.layers[0].memory.slots();
      }, "Memory slots in use in the first layer (n).");

  nb::class_<PyMachine>(m, "_Machine")
      .def_static("from_config", [](nb::handle config, const std::string& where, uint64_t seed) {
        PyMachine p = machine_from_model(build_model(to_json(config), where));
        Generator g(seed);
        p.m->init(g);
        return p;
      })
      .def_static("load", [](const std::string& path) {
        std::string dir = model_folder(path);
        nb::gil_scoped_release release;
        return machine_from_model(std::shared_ptr<models::Model>(models::load_model(dir).release()));
      })
      .def("init", [](PyMachine& p, uint64_t seed) {
        Generator g(seed);
        p.m->init(g);
      })
      .def("config", [](const PyMachine& p) { return from_json(p.m->config().to_json()); })
      .def("dials", [](const PyMachine& p) { return p.m->config().dials_string(); })
      .def("has_parallel_form", [](const PyMachine& p) { return p.m->config().has_parallel_form(); })
      .def("num_parameters", [](const PyMachine& p) { return p.m->num_parameters(); })
      .def("forward", [](PyMachine& p, nb::handle x, const std::string& form, bool trace) {
        const char* where = "Machine.forward";
        Tensor inputs = machine_input(p, x, 3, where, "[B, T, X]");
        models::Form f = parse_form(form, where);
        models::Trace recorded;
        Tensor y;
        {
          nb::gil_scoped_release release;
          NoGradGuard no_grad;
          y = p.m->forward(inputs, f, trace ? &recorded : nullptr);
        }
        if (trace) p.trace = std::move(recorded);
        return to_numpy(y);
      })
      // For bench/python_overhead.py: seconds per forward of n forwards in a C++ loop (no
      // Python in between), so the Python call's own cost is the difference.
      .def("_time_forward", [](PyMachine& p, nb::handle x, const std::string& form, int64_t n) {
        Tensor inputs = machine_input(p, x, 3, "Machine._time_forward", "[B, T, X]");
        models::Form f = parse_form(form, "Machine._time_forward");
        nb::gil_scoped_release release;
        NoGradGuard no_grad;
        auto start = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < n; ++i) p.m->forward(inputs, f);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(n);
      })
      .def("last_trace", [](const PyMachine& p) {
        if (p.trace.empty())
          fail("Machine.trace", "nothing recorded yet: call trace(x) or forward(x, trace=True) first");
        return trace_dict(p.trace);
      })
      .def("initial_state", [](const PyMachine& p, int64_t batch) {
        SDNC_CHECK(batch > 0, "Machine.initial_state", "batch must be > 0, got {}", batch);
        PyState s;
        s.state = p.m->initial_state(batch, p.dtype);
        s.batch = batch;
        s.owner = p.m.get();
        return s;
      })
      .def("step", [](PyMachine& p, nb::handle x, PyState& s) {
        const char* where = "Machine.step";
        Tensor t = machine_input(p, x, 2, where, "[B, X]");
        SDNC_CHECK(s.owner == p.m.get(), where, "the state belongs to another machine");
        SDNC_CHECK(t.size(0) == s.batch, where, "x has B = {} sequences, the state {}", t.size(0), s.batch);
        Tensor y;
        {
          nb::gil_scoped_release release;
          NoGradGuard no_grad;
          y = p.m->step(t, s.state);
        }
        return to_numpy(y);
      })
      .def("state_dict", [](const PyMachine& p) { return to_numpy_dict(p.m->state_dict()); })
      .def("load_state_dict", [](PyMachine& p, nb::handle state, bool strict) {
        auto tensors = to_tensor_map(state, "Machine.load_state_dict");
        p.m->load_state_dict(tensors, !strict);
      })
      .def("save", [](const PyMachine& p, const std::string& dir) {
        auto model = build_model(p.m->config().to_json(), "Machine.save");
        model->module().load_state_dict(p.m->state_dict());
        nb::gil_scoped_release release;
        models::save_model(*model, dir);
      });

  // Any checkpoint model (GPT-2, encoder, encoder-decoder, LSTM, or a machine): named inputs in,
  // named outputs out (models/model.h).
  nb::class_<models::Model>(m, "_Model")
      .def_static("load", [](const std::string& path) {
        std::string dir = model_folder(path);
        nb::gil_scoped_release release;
        return std::shared_ptr<models::Model>(models::load_model(dir).release());
      })
      .def("type", &models::Model::type)
      .def("input_names", &models::Model::input_names)
      .def("config", [](const models::Model& model) { return from_json(model.config_json()); })
      .def("state_dict", [](models::Model& model) { return to_numpy_dict(model.module().state_dict()); })
      .def("run", [](const models::Model& model, nb::handle inputs, const std::string& form, bool trace) {
        const char* where = "Model.run";
        std::map<std::string, Tensor> in;
        if (!nb::isinstance<nb::dict>(inputs)) fail(where, "inputs must be a dict of name → array");
        for (auto [key, value] : nb::borrow<nb::dict>(inputs)) {
          std::string name = nb::cast<std::string>(nb::str(key));
          in[name] = to_tensor(value, std::string(where) + ": input '" + name + "'");
        }
        models::Form f = parse_form(form, where);
        models::Trace recorded;
        models::TensorMap out;
        {
          nb::gil_scoped_release release;
          NoGradGuard no_grad;
          out = model.run(in, f, trace ? &recorded : nullptr);
        }
        nb::dict result;
        for (const auto& [name, t] : out) result[name.c_str()] = to_numpy(t);
        for (const auto& [name, t] : recorded) result[("trace." + name).c_str()] = to_numpy(t);
        return result;
      });
}

}  // namespace sdnc::python
