#include "harness.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

namespace sdnc::test {

namespace {
std::map<std::string, OpFn>& registry() {
  static std::map<std::string, OpFn> r;
  return r;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

InputSpec parse_input(const json& j) {
  InputSpec s;
  s.shape = j.at("shape").get<Shape>();
  s.gen = j.value("gen", "normal");
  s.lo = j.value("lo", -1.0);
  s.hi = j.value("hi", 1.0);
  s.high = j.value("high", int64_t{2});
  if (j.contains("values")) s.values = j.at("values").get<std::vector<double>>();
  s.grad = j.value("grad", s.gen != "index" && s.gen != "binary");
  return s;
}

OpCase parse_case(const json& j, const std::string& family) {
  OpCase c;
  c.family = family;
  c.name = j.at("name").get<std::string>();
  c.op = j.at("op").get<std::string>();
  for (auto& in : j.at("inputs")) c.inputs.push_back(parse_input(in));
  c.params = j.value("params", json::object());
  c.fd = j.value("fd", true);
  c.golden = j.value("golden", true);
  c.fd_tol = j.value("fd_tol", c.fd_tol);
  c.fwd_atol_f32 = j.value("fwd_atol_f32", c.fwd_atol_f32);
  c.fwd_rtol_f32 = j.value("fwd_rtol_f32", c.fwd_rtol_f32);
  c.grad_atol_f32 = j.value("grad_atol_f32", c.grad_atol_f32);
  c.grad_rtol_f32 = j.value("grad_rtol_f32", c.grad_rtol_f32);
  c.atol_f64 = j.value("atol_f64", c.atol_f64);
  c.rtol_f64 = j.value("rtol_f64", c.rtol_f64);
  return c;
}
}  // namespace

OpRegistration::OpRegistration(const std::string& name, OpFn fn) { registry()[name] = std::move(fn); }

const OpFn& find_op(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) throw Error("[harness] no invoker registered for op '" + name + "'");
  return it->second;
}

const std::vector<OpCase>& all_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> out;
    for (auto& entry : std::filesystem::directory_iterator(SDNC_TEST_CASES_DIR)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream f(entry.path());
      json j = json::parse(f);
      for (auto& c : j) out.push_back(parse_case(c, entry.path().stem().string()));
    }
    std::sort(out.begin(), out.end(), [](const OpCase& a, const OpCase& b) { return a.name < b.name; });
    return out;
  }();
  return cases;
}

std::vector<Tensor> make_inputs(const OpCase& c) {
  std::vector<Tensor> out;
  Generator gen(fnv1a(c.name));
  for (const InputSpec& s : c.inputs) {
    if (s.gen == "index") {
      Tensor t = Tensor::empty(s.shape, DType::I64);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = gen.randint(0, s.high);
      out.push_back(t);
      continue;
    }
    if (s.gen == "values") {
      out.push_back(Tensor::from_vector(s.values, s.shape, DType::F64));
      continue;
    }
    Tensor t = Tensor::empty(s.shape, DType::F64);
    double* p = t.data<double>();
    int64_t n = t.numel();
    if (s.gen == "uniform") gen.fill_uniform(t, s.lo, s.hi);
    else if (s.gen == "positive") gen.fill_uniform(t, 0.5, 2.0);
    else if (s.gen == "probability") gen.fill_uniform(t, 0.05, 0.95);
    else if (s.gen == "zeros") t.fill(0.0);
    else if (s.gen == "binary") gen.fill_bernoulli(t, 0.5);
    else gen.fill_normal(t, 0.0, 1.0);
    if (s.gen == "large") for (int64_t i = 0; i < n; ++i) p[i] *= 1e3;
    if (s.gen == "with_zero") for (int64_t i = 0; i < n; i += 3) p[i] = 0.0;
    if (s.gen == "away_from_zero")
      for (int64_t i = 0; i < n; ++i) p[i] = std::copysign(0.2 + std::fabs(p[i]), p[i]);
    // Round to float32 so the F32 and F64 paths see the same values as the oracle.
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(p[i]);
    out.push_back(t);
  }
  return out;
}

std::vector<Tensor> run_case(const OpCase& c, const std::vector<Tensor>& inputs) {
  return find_op(c.op)(inputs, c.params);
}

Closeness compare(const Tensor& got, const Tensor& ref, double atol, double rtol) {
  Closeness r;
  if (got.shape() != ref.shape()) {
    r.ok = false;
    return r;
  }
  auto g = got.to_doubles(), e = ref.to_doubles();
  double worst_excess = -1;
  for (size_t i = 0; i < g.size(); ++i) {
    double diff = std::fabs(g[i] - e[i]);
    if (std::isnan(g[i]) != std::isnan(e[i]) || (std::isnan(diff) && !std::isnan(e[i]))) {
      r.ok = false;
      r.worst = static_cast<int64_t>(i);
      continue;
    }
    if (std::isnan(diff)) continue;  // both NaN
    r.max_abs = std::max(r.max_abs, diff);
    r.max_rel = std::max(r.max_rel, diff / std::max(std::fabs(e[i]), 1e-30));
    double excess = diff - (atol + rtol * std::fabs(e[i]));
    if (excess > 0) r.ok = false;
    if (excess > worst_excess) worst_excess = excess, r.worst = static_cast<int64_t>(i);
  }
  return r;
}

std::string golden_dir() {
  if (const char* env = std::getenv("SDNC_GOLDEN_DIR")) return env;
  return SDNC_GOLDEN_DIR;
}

}  // namespace sdnc::test
