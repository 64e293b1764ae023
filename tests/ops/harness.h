// harness.h — the one table-driven harness for every op.
//
// The table is data: tests/ops/cases/<family>.json lists cases (op name, input specs,
// params, tolerances). The same files drive
//   - the finite-difference gradient check (test_gradcheck.cpp, double precision), and
//   - the PyTorch oracle (tests/golden/gen_ops.py writes <golden>/<case>.safetensors with
//     inputs, outputs, cotangents and input gradients; test_golden.cpp compares).
// Each op registers an invoker here (registry_<family>.cpp); the oracle registers the
// PyTorch twin under the same name (tests/golden/ops_<family>.py).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/sdnc.h"

namespace sdnc::test {

using json = nlohmann::json;
using OpFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&, const json&)>;

// Registers an op invoker at static-initialisation time.
struct OpRegistration {
  OpRegistration(const std::string& name, OpFn fn);
};
const OpFn& find_op(const std::string& name);

#define SDNC_CONCAT_INNER(a, b) a##b
#define SDNC_CONCAT(a, b) SDNC_CONCAT_INNER(a, b)
#define SDNC_REGISTER_OP(name, ...) \
  static ::sdnc::test::OpRegistration SDNC_CONCAT(sdnc_op_reg_, __LINE__)(name, __VA_ARGS__)

struct InputSpec {
  Shape shape;
  std::string gen = "normal";  // normal | uniform | positive | zeros | large | with_zero |
                               // away_from_zero | probability | binary | index | values
  double lo = -1, hi = 1;      // uniform range
  int64_t high = 2;            // index range [0, high)
  std::vector<double> values;  // gen == "values"
  bool grad = true;            // differentiable input (false for indices, targets, masks)
};

struct OpCase {
  std::string name, op, family;
  std::vector<InputSpec> inputs;
  json params;
  bool fd = true;      // run the finite-difference check
  bool golden = true;  // compare against the PyTorch oracle
  double fd_tol = 1e-6;
  double fwd_atol_f32 = 1e-5, fwd_rtol_f32 = 1e-5;
  double grad_atol_f32 = 1e-4, grad_rtol_f32 = 1e-4;
  double atol_f64 = 1e-10, rtol_f64 = 1e-9;
};

// All cases of all families (sorted by name); throws on a malformed case file.
const std::vector<OpCase>& all_cases();

// Inputs for a case from sdnc's own RNG, seeded by the case name (F64; indices I64).
std::vector<Tensor> make_inputs(const OpCase& c);

// Runs the case's op on inputs converted to dtype (index inputs stay I64).
std::vector<Tensor> run_case(const OpCase& c, const std::vector<Tensor>& inputs);

struct Closeness {
  double max_abs = 0, max_rel = 0;
  int64_t worst = -1;  // flat index of the worst violation (or of max_abs when none)
  bool ok = true;
};
// Elementwise |got - ref| <= atol + rtol·|ref| (NaN anywhere fails).
Closeness compare(const Tensor& got, const Tensor& ref, double atol, double rtol);

std::string golden_dir();

}  // namespace sdnc::test
