// Tensor: construction, shared storage, dtype conversion and its error messages.
#include <gtest/gtest.h>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

TEST(Tensor, ConstructionAndMetadata) {
  Tensor t = Tensor::zeros({2, 3, 4, 5, 6});
  EXPECT_EQ(t.ndim(), 5);
  EXPECT_EQ(t.numel(), 720);
  EXPECT_EQ(t.size(-1), 6);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_EQ(t.device(), Device::CPU);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  for (double v : t.to_doubles()) ASSERT_EQ(v, 0.0);
  EXPECT_EQ(Tensor::full({2}, 3.5, DType::F64).to_doubles(), (std::vector<double>{3.5, 3.5}));
  EXPECT_EQ(Tensor::scalar(2.0).ndim(), 0);
  EXPECT_EQ(Tensor::scalar(2.0).item(), 2.0);
}

TEST(Tensor, ViewsShareStorageClonesDoNot) {
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor v = a.view({3, 2});
  Tensor c = a.clone();
  a.data<float>()[0] = 42;
  EXPECT_EQ(v.data<float>()[0], 42);
  EXPECT_EQ(c.data<float>()[0], 1);
  EXPECT_TRUE(v.same_storage(a));
  EXPECT_FALSE(c.same_storage(a));
  EXPECT_THROW(a.view({4, 2}), Error);
}

TEST(Tensor, DtypeConversionAndChecks) {
  Tensor a = Tensor::from_vector(std::vector<double>{1.5, -2.25}, {2}, DType::F64);
  Tensor f = a.to(DType::F32);
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.to_doubles(), (std::vector<double>{1.5, -2.25}));
  EXPECT_THROW(a.data<float>(), Error);
  try {
    a.data<float>();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[tensor]", 0), 0u);
  }
  EXPECT_THROW(Tensor::empty({-1, 2}), Error);
  EXPECT_THROW(Tensor::from_vector(std::vector<double>{1, 2, 3}, {2}), Error);
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(Tensor::zeros({2}).item(), Error);
}

TEST(Tensor, CudaHasNoBackendInThisBuild) {
  try {
    Tensor::empty({2}, DType::F32, Device::CUDA);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no cuda backend"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sdnc
