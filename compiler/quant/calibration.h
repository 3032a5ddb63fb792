// Activation statistics for the quantizer.
//
// Contract
//  - calibration_max_abs(g, samples): runs the simplified graph in float (the reference
//    kernels' eval_node, one image at a time) over every image of `samples` (one tensor per
//    graph input, each with a leading batch dimension N, all with the same N) and returns,
//    per Value id, max |x| over all images (0 for constants and values never computed).
//    Throws cimsim::InputError when the samples do not match the graph inputs.
//  - default_calibration(g): the documented default when the user gives no calibration data:
//    8 images per graph input of independent standard-normal values ("ImageNet-normalized-like"),
//    drawn with mt19937_64 seeded with kDefaultCalibrationSeed and a portable Box–Muller
//    transform, so every platform gets the same numbers.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim::quant {

constexpr uint64_t kDefaultCalibrationSeed = 20240607;
constexpr int kDefaultCalibrationImages = 8;

std::vector<float> calibration_max_abs(const ir::Graph& g, const std::vector<ir::FloatTensor>& samples);

std::vector<ir::FloatTensor> default_calibration(const ir::Graph& g);

}  // namespace cimsim::quant
