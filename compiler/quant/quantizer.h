// Post-training quantization: simplified ir::Graph -> q::QModel (qmodel.h).
//
// Contract (the arithmetic is specified in docs/quantization.md)
//  - quantize(g, spec, calibration): `g` must be simplified (passes.h). `calibration` holds one
//    tensor per graph input, each with a leading batch dimension; empty means the documented
//    default (default_calibration() in calibration.h). Activation scales are max|x| / qmax over
//    the calibration images, unless the value carries QDQ QuantParams (then those are kept).
//    Weights are symmetric Bw-bit codes, per output channel or per tensor per spec.
//  - Every problem that makes the quantized path impossible or inexact (unsupported operator
//    or broadcast, non-zero zero point, int32 accumulator or bias overflow, Softmax that is not
//    a final output, non-identity Transpose, ...) throws cimsim::InputError whose message starts
//    with "FILE: " and names the ONNX node.
//  - quantize_with_ranges: the same with the per-Value max|x| statistics given directly
//    (index = Value id; constants ignored) — for tests and for callers with their own statistics.
#pragma once

#include <vector>

#include "compiler/frontend/graph.h"
#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"

namespace cimsim::quant {

q::QModel quantize(const ir::Graph& g, const QuantSpec& spec, const std::vector<ir::FloatTensor>& calibration);

q::QModel quantize_with_ranges(const ir::Graph& g, const QuantSpec& spec, const std::vector<float>& max_abs);

// quantize_multiplier() restricted to shifts <= shift_max (the hardware's largest right shift):
// when the natural shift is larger, the multiplier is rounded at shift_max instead.
qmath::QuantizedMultiplier requant_multiplier(double m, int shift_max);

// Residual-add parameters for out = a*s_a + b*s_b (b negated when `subtract`): the largest shift
// <= min(62, shift_max) that keeps both |multipliers| < 2^30.
q::AddParams add_params(double s_a, double s_b, double s_out, bool subtract, int shift_max);

}  // namespace cimsim::quant
