#include "platform/vp/tensor_io.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cimsim {
namespace {

TEST(TensorIo, QuantizesToHwcAndBack) {
  TensorIO io;
  io.shape = {2, 2, 3};  // C, H, W
  io.scale = 0.5f;
  io.is_unsigned = false;
  io.bits = 8;
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i) - 5.25f;  // NCHW order
  auto bytes = quantize_image(io, x.data());
  ASSERT_EQ(bytes.size(), 12u);
  // element (c=1, h=0, w=2) is NCHW index 1*6 + 0*3 + 2 = 8 -> 2.75 / 0.5 = 5.5 -> 6 (half away
  // from zero); stored at HWC index (0*3 + 2)*2 + 1 = 5.
  EXPECT_EQ(static_cast<int8_t>(bytes[5]), 6);
  // element 0 -> -5.25 / 0.5 = -10.5 -> -11 at HWC index 0.
  EXPECT_EQ(static_cast<int8_t>(bytes[0]), -11);
  auto back = dequantize_image(io, bytes.data());
  EXPECT_FLOAT_EQ(back[8], 3.0f);
  EXPECT_FLOAT_EQ(back[0], -5.5f);
}

TEST(TensorIo, ClampsToCodeRange) {
  TensorIO io;
  io.shape = {3};
  io.scale = 1.0f;
  io.is_unsigned = true;
  io.bits = 4;
  std::vector<float> x = {-3.0f, 7.4f, 100.0f};
  auto bytes = quantize_image(io, x.data());
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0, 7, 15}));
}

TEST(TensorIo, HostSoftmaxOverChannels) {
  TensorIO io;
  io.shape = {3};
  io.scale = 1.0f;
  io.is_unsigned = true;
  io.host_softmax = true;
  std::vector<uint8_t> codes = {0, 1, 2};
  auto y = dequantize_image(io, codes.data());
  double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(y[0], 1 / z, 1e-6);
  EXPECT_NEAR(y[2], std::exp(2.0) / z, 1e-6);
}

}  // namespace
}  // namespace cimsim
