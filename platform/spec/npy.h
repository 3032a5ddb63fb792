// NumPy .npy files: the tensor format of the CLI (inputs, outputs, calibration data).
//
// Contract: read_npy/parse_npy accept format versions 1.0, 2.0 and 3.0, C order, dtypes
// <f4 <f8 <i8 <i4 |u1 |i1 (values converted to float); anything else (fortran_order True,
// big-endian, object or other dtypes, malformed header, data size != shape product) throws
// InputError("NAME: what"). Memory used is bounded by the input size. write_npy writes
// float32, little-endian, C order, format 1.0, byte-identical to numpy.save (same header padding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimsim {

struct NpyArray {
  std::vector<int64_t> shape;  // empty: a scalar (one element)
  std::vector<float> data;     // C order
};

NpyArray read_npy(const std::string& path);
// `name` stands for the file in messages.
NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& name);
// Throws InputError when data.size() != product(shape) or the file cannot be written.
void write_npy(const std::string& path, const NpyArray& a);
std::vector<uint8_t> encode_npy(const NpyArray& a);

}  // namespace cimsim
