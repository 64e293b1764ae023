// Autograd engine: accumulation, no-grad scope, multi-use of a tensor, freeing of saved
// tensors, and its error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "sdnc/autograd/engine.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3}, DType::F64).requires_grad_();
  Tensor w = Tensor::from_vector(std::vector<double>{4, 5, 6}, {3}, DType::F64);
  for (int rep = 0; rep < 2; ++rep) {
    Tensor y = mul(x, w);
    run_backward({y}, {Tensor::ones({3}, DType::F64)});
  }
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{8, 10, 12}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, TensorUsedTwiceSumsBothPaths) {
  // y = x * x + x  →  dy/dx = 2x + 1
  Tensor x = Tensor::from_vector(std::vector<double>{-1, 0.5, 3}, {3}, DType::F64).requires_grad_();
  Tensor y = add(mul(x, x), x);
  run_backward({y}, {Tensor::ones({3}, DType::F64)});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{-1, 2, 7}));
}

TEST(Autograd, NoGradScopeRecordsNothing) {
  Tensor x = Tensor::ones({2}, DType::F64).requires_grad_();
  Tensor y;
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    y = mul(x, x);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_FALSE(y.requires_grad());
}

TEST(Autograd, SavedTensorsAreFreedAfterBackward) {
  Tensor leaf = Tensor::ones({4, 4}).requires_grad_();
  Tensor b = Tensor::ones({4, 4}).requires_grad_();
  Tensor a = mul_scalar(leaf, 2.0);  // an intermediate: only the graph may keep it alive
  Tensor y = matmul(a, b);
  std::weak_ptr<Storage> a_storage = a.impl().storage;
  a = Tensor();
  EXPECT_FALSE(a_storage.expired());
  run_backward({y}, {Tensor::ones({4, 4})});
  EXPECT_TRUE(a_storage.expired()) << "backward did not release the saved copy of a";
  EXPECT_THROW(run_backward({y}, {Tensor::ones({4, 4})}), Error);
}

TEST(Autograd, BackwardNeedsAScalar) {
  Tensor x = Tensor::ones({3}).requires_grad_();
  Tensor y = mul(x, x);
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[backward]", 0), 0u) << e.what();
  }
}

TEST(Autograd, OnlyFloatingLeavesRequireGrad) {
  Tensor idx = Tensor::from_indices({1, 2}, {2});
  EXPECT_THROW(idx.requires_grad_(), Error);
}

}  // namespace
}  // namespace sdnc

namespace sdnc {
namespace {

// The hook names each reached leaf once, when its gradient is already the final one: a leaf used
// early and late in the graph is named only after its last use's backward; an unused leaf is
// not named; the leaf used only by the last op (first in backward) is named first.
TEST(Autograd, LeafGradientHookNamesEachLeafOnceWhenFinal) {
  Tensor a = Tensor::from_vector(std::vector<double>{1.0, 2.0}, {2}, DType::F64).requires_grad_();
  Tensor b = Tensor::from_vector(std::vector<double>{3.0, -1.0}, {2}, DType::F64).requires_grad_();
  Tensor c = Tensor::from_vector(std::vector<double>{0.5, 0.25}, {2}, DType::F64).requires_grad_();
  Tensor unused = Tensor::from_vector(std::vector<double>{7.0}, {1}, DType::F64).requires_grad_();
  // y = Σ ((a·b) + a) · c : a is used twice (mul, add), c only at the end.
  Tensor y = sum_all(mul(add(mul(a, b), a), c));
  std::vector<std::pair<TensorImpl*, std::vector<double>>> named;
  {
    LeafGradientHook hook([&](TensorImpl& leaf) { named.push_back({&leaf, Tensor(leaf.grad).to_doubles()}); });
    y.backward();
  }
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named[0].first, c.impl_ptr().get());  // the last op's input: final first
  for (const auto& [leaf, grad_then] : named) EXPECT_EQ(grad_then, Tensor(leaf->grad).to_doubles());  // already final
  EXPECT_EQ(a.grad().to_doubles(), (std::vector<double>{0.5 * (3.0 + 1.0), 0.25 * (-1.0 + 1.0)}));
  EXPECT_FALSE(unused.grad().defined());
  // Without a hook nothing is called, and the hook is gone after its scope.
  a.zero_grad();
  sum_all(mul(a, a)).backward();
  EXPECT_EQ(named.size(), 3u);
}

TEST(Gemm, InnerSizeZeroScalesC) {
  // K = 0: C = beta·C (oneDNN 2.6 leaves C untouched there; the wrapper must not).
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> c(6, std::nanf("")), d(6, 2.0f);
      float dummy = 0;
      cpu::gemm(ta, tb, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.0f, c.data(), 3);
      cpu::gemm(ta, tb, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.5f, d.data(), 3);
      for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(c[i], 0.0f);
        EXPECT_EQ(d[i], 1.0f);
      }
      std::vector<double> e(6, 4.0);
      double dd = 0;
      cpu::gemm(ta, tb, 2, 3, 0, 1.0, &dd, 1, &dd, 3, 0.25, e.data(), 3);
      for (int i = 0; i < 6; ++i) EXPECT_EQ(e[i], 1.0);
    }
}

}  // namespace
}  // namespace sdnc
