// sampling_binding.cpp — `sdnc generate`'s token sampler (core/sampling.h) for Python:
// TokenSampler (used by LlamaModel.generate) and sdnc._sdnc.Sampler (used by Machine.generate
// and Model.generate), so every generate draws exactly the tokens the CLI draws for the same
// temperature, top-k, top-p and seed.
#include <cmath>

#include "bindings.h"
#include "sdnc/core/sampling.h"

namespace sdnc::python {

TokenSampler::TokenSampler(double temperature, int64_t top_k, double top_p, uint64_t seed, const char* where)
    : temperature_(temperature), top_p_(top_p), top_k_(top_k), g_(seed) {
  if (!(temperature >= 0.0) || !std::isfinite(temperature))
    fail(where, "temperature must be >= 0 (0: greedy), got {}", temperature);
  if (top_k < 0) fail(where, "top_k must be >= 0 (0: no limit), got {}", top_k);
  if (!(top_p >= 0.0 && top_p <= 1.0)) fail(where, "top_p must be in [0, 1], got {}", top_p);
}

int64_t TokenSampler::operator()(const float* logits, int64_t V) {
  return sample_token(logits, V, temperature_, top_k_, g_, top_p_);
}

void bind_sampling(nb::module_& m) {
  nb::class_<TokenSampler>(m, "Sampler", "Token ids from logits with sdnc generate's sampler (core/sampling.h).")
      .def("__init__", [](TokenSampler* s, double temperature, int64_t top_k, double top_p, uint64_t seed) {
        new (s) TokenSampler(temperature, top_k, top_p, seed, "generate");
      }, nb::arg("temperature"), nb::arg("top_k") = 0, nb::arg("top_p") = 1.0, nb::arg("seed") = 0)
      .def("__call__", [](TokenSampler& s, nb::handle logits) {
        Tensor t = to_tensor(logits, "generate: logits");
        if (t.dtype() != DType::F32 || t.ndim() != 1 || t.numel() == 0)
          fail("generate", "logits must be float32 [V], got {} {}", numpy_dtype_name(t.dtype()), shape_str(t.shape()));
        return s(t.data<float>(), t.numel());
      }, nb::arg("logits"), "The next token id from logits [V] (float32).");
}

}  // namespace sdnc::python
