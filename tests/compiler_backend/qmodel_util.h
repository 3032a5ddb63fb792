// Test helpers: build small q::QModels directly (random weights, deterministic seed) and
// evaluate them with a naive CHW reference written from the formulas in qmodel.h, independent
// of the backend and of compiler/reference.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim::testing {

struct ConvSpec {
  int64_t M = 4, kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1,
          group = 1;
  bool relu = true;
};

class ModelBuilder {
 public:
  explicit ModelBuilder(uint32_t seed = 1, std::string name = "test") : rng_(seed) { m.name = name; }
  int input(const std::vector<int64_t>& shape, bool is_unsigned = true);
  int conv(int in, const ConvSpec& s);
  int fc(int in, int64_t M, bool relu);
  int reshape(int in, const std::vector<int64_t>& shape);
  int maxpool(int in, int64_t k, int64_t s, int64_t pad);
  int avgpool(int in, int64_t k, int64_t s, int64_t pad, bool include_pad);
  int global_avgpool(int in);
  int add(int a, int b, bool relu);
  int concat(const std::vector<int>& ins);  // second and later inputs get a non-identity LUT
  int lut(int in);
  void output(int t) { m.outputs.push_back(t); }
  q::QModel m;

 private:
  int tensor(const std::vector<int64_t>& shape, bool is_unsigned);
  q::Layer& layer(q::LayerKind k, std::vector<int> ins, int out);
  std::mt19937 rng_;
};

// Codes of every tensor for one image (CHW order), from the model-input codes.
std::vector<std::vector<int32_t>> reference_codes(const q::QModel& m,
                                                  const std::vector<std::vector<int32_t>>& inputs);

// Random codes for tensor t.
std::vector<int32_t> random_codes(const q::QTensor& t, std::mt19937& rng);

// Writes `batch` images of random codes of input `in` to `path` as a float .npy (N, C, H, W)
// holding code * scale, which the simulator quantizes back to exactly those codes; returns
// the codes per image.
std::vector<std::vector<int32_t>> write_code_inputs(const q::QTensor& in, int batch, std::mt19937& rng,
                                                    const std::string& path);

// Places CHW codes of each input image into global memory at the TensorIO addresses (HWC),
// and reads an output image back as CHW codes.
void put_input(std::vector<uint8_t>& global, const TensorIO& io, int64_t n, const std::vector<int32_t>& chw);
std::vector<int32_t> get_output(const std::vector<uint8_t>& global, const TensorIO& io, int64_t n);

// Writes configs/tiny.yaml with each (from, to) text replacement applied to DIR/arch.yaml
// (created afresh) and loads it. Throws std::runtime_error if a `from` is not in the file.
ArchSpec write_tiny_arch(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& edits);

// configs/tiny.yaml with a bigger mesh, for tests.
ArchSpec test_arch(int mesh_rows = 4, int mesh_cols = 4);

}  // namespace cimsim::testing
