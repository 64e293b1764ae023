// bindings.h — the shared pieces of the Python extension module sdnc._sdnc (nanobind): array
// conversions both ways and one bind_* function per concept. The Python layer (sdnc/__init__.py)
// wraps these in Pythonic classes; this file keeps the C++ side thin.
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/core/rng.h"
#include "sdnc/core/tensor.h"

namespace sdnc::python {

namespace nb = nanobind;

// Any array (numpy, torch, anything with the buffer protocol or __dlpack__; lists go through
// numpy.asarray) → Tensor. The bytes are shared when the array is C-contiguous, writable, on the
// CPU and float32 / float64 / int64; otherwise it is copied (non-contiguous, read-only). Other
// dtypes throw "[where] dtype float16 is not supported (float32, float64, int64)".
Tensor to_tensor(nb::handle array, const std::string& where);

// Tensor → numpy array that shares its bytes (the array keeps the storage alive).
nb::object to_numpy(const Tensor& t);
// name → numpy array (copies: later training does not change them).
nb::dict to_numpy_dict(const std::map<std::string, Tensor>& tensors);
// {name: array} → name → Tensor (copies, so the caller's arrays may change afterwards).
std::map<std::string, Tensor> to_tensor_map(nb::handle dict, const std::string& where);

// JSON ⇄ Python objects through the json module (configs are small).
nlohmann::json to_json(nb::handle object);
nb::object from_json(const nlohmann::json& j);

// "float32" / "float64" / "int64" (numpy's names for sdnc's dtypes).
const char* numpy_dtype_name(DType t);

// `sdnc generate`'s sampler (core/sampling.h) with its own seeded Generator; the constructor
// checks the arguments ("[where] temperature must be >= 0 ...").
class TokenSampler {
 public:
  TokenSampler(double temperature, int64_t top_k, double top_p, uint64_t seed, const char* where);
  int64_t operator()(const float* logits, int64_t V);  // logits [V]

 private:
  double temperature_, top_p_;
  int64_t top_k_;
  Generator g_;
};

void bind_tensor(nb::module_& m);
void bind_machine(nb::module_& m);
void bind_io(nb::module_& m);
void bind_train(nb::module_& m);
void bind_pretrained(nb::module_& m);
void bind_sampling(nb::module_& m);

}  // namespace sdnc::python
