// `cimsim reference`: the golden output of a model for one .npy input.
//
// Contract
//  - run_reference loads MODEL (ONNX), simplifies it and runs it on INPUT (.npy, float32 NCHW
//    with a leading batch dimension): in float (run_float) when `arch_path` is empty, else the
//    network quantized for that architecture's `quantization` section (quantize() with the
//    calibration data of `calibration_npy`, or the documented default when it is empty) run by
//    the exact integer interpreter (run_integer) — the values a lossless, noise-free simulation
//    of `cimsim compile` with the same arch and calibration must reproduce. Writes the single
//    model output to OUTPUT (.npy, float32, leading batch dimension). A non-empty
//    `weights_path` replaces the trainable constants first (frontend/trained_weights.h).
//  - Bad files, shapes or unsupported models throw cimsim::InputError naming the file.
//  - load_calibration reads a calibration .npy (one tensor, leading batch dimension: N images)
//    for a single-input model; `cimsim compile --calibration` passes the same tensor.
#pragma once

#include <string>
#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim {

void run_reference(const std::string& model_path, const std::string& input_npy, const std::string& output_npy,
                   const std::string& arch_path, const std::string& calibration_npy,
                   const std::string& weights_path = "");

std::vector<ir::FloatTensor> load_calibration(const std::string& npy);

}  // namespace cimsim
