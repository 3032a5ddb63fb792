// Host-side tensor conversions between .npy floats and the codes in global memory.
//
// Contract: images are laid out as TensorIO says (platform/spec/isa.h): one code byte per
// element (bits <= 8; signed codes as two's complement bytes), channels last (HWC) for 3-D
// shapes {C,H,W}, C order otherwise. quantize_image() takes one image in NCHW/C order and
// returns its bytes; dequantize_image() is the inverse mapping (codes -> floats, NCHW), with
// a float softmax over the channel axis (3-D) or over all elements (otherwise) when
// host_softmax is set.
#pragma once

#include <cstdint>
#include <vector>

#include "platform/spec/isa.h"

namespace cimsim {

int64_t elements_per_image(const TensorIO& io);
std::vector<uint8_t> quantize_image(const TensorIO& io, const float* values);
std::vector<float> dequantize_image(const TensorIO& io, const uint8_t* codes);

}  // namespace cimsim
