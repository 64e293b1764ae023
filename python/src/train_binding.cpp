// train_binding.cpp — sdnc.train: one training run (train/trainer.h) from a config dict, with a
// per-step Python callback that may stop it. The GIL is released while training and taken only
// for the callback; Ctrl-C stops the run at the next step boundary with a checkpoint (the
// trainer's SIGINT handler) and is then raised as KeyboardInterrupt.
#include "bindings.h"
#include "sdnc/train/trainer.h"

namespace sdnc::python {

void bind_train(nb::module_& m) {
  m.def("train", [](nb::handle config, nb::object callback, bool resume, bool overwrite, bool progress) {
    train::TrainConfig c = train::TrainConfig::from_json(to_json(config), "train config");
    train::TrainOptions options;
    options.resume = resume;
    options.overwrite = overwrite;
    options.progress = progress;
    bool callback_failed = false;
    nb::object callback_error;  // the exception a callback raised, re-raised after the run
    if (!callback.is_none()) {
      options.on_step = [&](const train::StepReport& r) {
        nb::gil_scoped_acquire gil;
        try {
          nb::object verdict = callback(r.step, r.loss, r.lr, r.grad_norm);
          return !(verdict.is(nb::bool_(false)));
        } catch (nb::python_error& e) {
          callback_failed = true;
          callback_error = nb::borrow(e.value());
          return false;
        }
      };
    }
    train::TrainSummary summary;
    std::string out_dir;
    {
      nb::gil_scoped_release release;
      train::Trainer trainer(std::move(c), options);
      out_dir = trainer.config().s("out_dir");
      summary = trainer.train();
    }
    if (callback_failed) {
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(callback_error.ptr())), callback_error.ptr());
      throw nb::python_error();
    }
    if (summary.sigint) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      throw nb::python_error();
    }
    nb::dict evals;
    for (const auto& e : summary.evals) {
      nb::dict metrics;
      for (const auto& [k, v] : e.metrics) metrics[k.c_str()] = v;
      evals[nb::int_(e.length)] = metrics;
    }
    nb::dict out;
    out["first_step"] = summary.first_step;
    out["last_step"] = summary.last_step;
    out["stopped"] = summary.interrupted;
    out["seconds"] = summary.seconds;
    out["final_loss"] = summary.final_loss;
    out["evals"] = evals;
    out["out_dir"] = out_dir;
    return out;
  }, nb::arg("config"), nb::arg("callback").none(), nb::arg("resume"), nb::arg("overwrite"), nb::arg("progress"));
}

}  // namespace sdnc::python
