#include "platform/vp/tensor_io.h"

#include <algorithm>
#include <cmath>

#include "platform/spec/qmath.h"

namespace cimsim {
namespace {

bool is_hwc(const TensorIO& io) { return io.shape.size() == 3; }

// Index of NCHW element (c, h, w) in the HWC byte layout; identity for non-3-D shapes.
int64_t stored_index(const TensorIO& io, int64_t i) {
  if (!is_hwc(io)) return i;
  const int64_t c_count = io.shape[0], h_count = io.shape[1], w_count = io.shape[2];
  const int64_t c = i / (h_count * w_count), h = (i / w_count) % h_count, w = i % w_count;
  return (h * w_count + w) * c_count + c;
}

void softmax(float* v, int64_t n, int64_t stride) {
  if (n <= 0) return;
  float hi = v[0];
  for (int64_t k = 1; k < n; ++k) hi = std::max(hi, v[k * stride]);
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += std::exp(static_cast<double>(v[k * stride] - hi));
  for (int64_t k = 0; k < n; ++k)
    v[k * stride] = static_cast<float>(std::exp(static_cast<double>(v[k * stride] - hi)) / sum);
}

}  // namespace

int64_t elements_per_image(const TensorIO& io) {
  int64_t n = 1;
  for (int64_t d : io.shape) n *= d;
  return n;
}

std::vector<uint8_t> quantize_image(const TensorIO& io, const float* values) {
  const int64_t n = elements_per_image(io);
  const int32_t qmin = qmath::qmin_for(io.bits, io.is_unsigned);
  const int32_t qmax = qmath::qmax_for(io.bits, io.is_unsigned);
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int32_t code = qmath::quantize_value(values[i], io.scale, qmin, qmax);
    bytes[static_cast<size_t>(stored_index(io, i))] = static_cast<uint8_t>(code & 0xff);
  }
  return bytes;
}

std::vector<float> dequantize_image(const TensorIO& io, const uint8_t* codes) {
  const int64_t n = elements_per_image(io);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint8_t byte = codes[stored_index(io, i)];
    int32_t code = io.is_unsigned ? static_cast<int32_t>(byte) : static_cast<int32_t>(static_cast<int8_t>(byte));
    out[static_cast<size_t>(i)] = qmath::dequantize_value(code, io.scale);
  }
  if (io.host_softmax) {
    if (is_hwc(io)) {
      const int64_t plane = io.shape[1] * io.shape[2];
      for (int64_t p = 0; p < plane; ++p) softmax(out.data() + p, io.shape[0], plane);
    } else {
      softmax(out.data(), n, 1);
    }
  }
  return out;
}

}  // namespace cimsim
