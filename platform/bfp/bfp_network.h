// Block floating point on a whole network: float inference with every weight product
// (Conv except depthwise, Gemm) computed in BFP through the crossbar kernel.
//
// Contract: bfp_network_error() loads MODEL (ONNX, one input, one output), runs it on INPUT
// (.npy, float32 NCHW, leading batch) twice with the float reference interpreter: once in
// float, once with compiler/reference's weight-product hook routed to kernels::BfpMatrix on
// `arch` (its bfp_block, weight_bits / activation_bits as mantissa widths, bfp_exponent_bits,
// and its crossbar/DAC/ADC), and compares the outputs. Everything else (activations, pooling,
// adds, depthwise convolutions, bias) stays float: this is the boundary of BFP support (the
// compiler and the simulator run integer codes only; see docs/functional-model.md). Bad
// files or arch throw InputError. Deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/arch.h"

namespace cimsim::bfp {

struct NetworkError {
  double relative_error = 0;  // ||y - y_float|| / ||y_float|| over the whole output
  double cosine = 0;
  int64_t samples = 0;        // batch
  int64_t top1_agree = 0;     // samples whose argmax matches float's (outputs [N, classes])
  int64_t weight_products = 0;  // layer products routed through the crossbar
};

NetworkError bfp_network_error(const std::string& model_path, const std::string& input_npy,
                               const ArchSpec& arch);

// A Markdown table over mantissa widths x block sizes (`cimsim bfp-error --model`).
std::string bfp_network_table(const std::string& model_path, const std::string& input_npy,
                              const ArchSpec& base, const std::vector<int>& mantissa_bits,
                              const std::vector<int>& blocks);

// `cimsim bfp-error`: the random-matrix table (kernels::bfp_error_table) and, when a model is
// given, the network table, for the arch at `arch_path` over the given grid.
struct ReportOptions {
  std::string arch_path;
  std::vector<int> mantissa_bits = {4, 6, 8};
  std::vector<int> blocks = {8, 16, 32};
  int64_t out_ch = 64, depth = 256;
  int vectors = 16;
  uint64_t seed = 1;
  std::string model_path, input_npy;  // both or neither
};
std::string error_report(const ReportOptions& o);

}  // namespace cimsim::bfp
