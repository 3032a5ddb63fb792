// The small CNNs of the end-to-end tests, built through the ONNX protobuf API.
//
// Contract: every model has one input named "input" of shape [1, C, H, W] and one output;
// weights are fixed-seed random, so a model is identical on every build. Sizes are chosen so
// that each model maps onto configs/tiny.yaml (4 cores x 8 crossbars of 32 x 32) and
// simulates in well under a second.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace e2e {

struct ModelCase {
  std::string name;
  std::function<Model()> build;
  int64_t batch;  // images in the test input
  int min_cores;  // cores the compiler needs (one per layer): above 4 the model skips tiny.yaml
};

const std::vector<ModelCase>& model_zoo();

// Scalable networks: width w channels (2w after the stride-2 stage) on hw x hw images.
Model mini_resnet(int64_t w, int64_t hw);
Model mobilenet_block(int64_t w, int64_t hw);
const ModelCase& find_model(const std::string& name);

// Writes NAME.onnx and NAME_input.npy (random data, fixed seed) into dir; returns the paths.
struct ModelFiles {
  std::string model, input;
};
ModelFiles write_model(const ModelCase& c, const std::string& dir, uint32_t input_seed = 7);

}  // namespace e2e
