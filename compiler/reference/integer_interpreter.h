// Exact integer reference of a quantized network (the golden model of the simulator).
//
// Contract
//  - Runs a q::QModel layer by layer on int32 activation codes exactly as qmodel.h defines
//    each LayerKind, with the functions of platform/spec/qmath.h (conv: int32 products
//    accumulated without overflow, + bias, requantize; add: add_requantize; pools; LUTs).
//    A lossless, noise-free simulation of the same model must produce the same codes.
//  - run_integer: float NCHW inputs with a leading batch dimension N (each image must have
//    the model input's numel); each is quantized on the host with qmath::quantize_value,
//    outputs are dequantized (and soft-maxed in float when output_host_softmax is set) and
//    returned as {N, ...tensor shape}. Throws cimsim::InputError on a count/size mismatch.
//  - run_integer_codes: one image given as codes of the (single or first) model input;
//    returns every QTensor's codes, indexed by tensor id (empty for tensors never produced).
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/frontend/graph.h"
#include "compiler/quant/qmodel.h"

namespace cimsim::reference {

std::vector<ir::FloatTensor> run_integer(const q::QModel& m,
                                         const std::vector<ir::FloatTensor>& inputs);

// Codes of every tensor for one image; `input_codes` holds the codes of each model input,
// concatenated in model-input order.
std::vector<std::vector<int32_t>> run_integer_codes(const q::QModel& m,
                                                    const std::vector<int32_t>& input_codes);

// The host-side final Softmax of one image, in place (same arithmetic as the simulator's host
// side): over the channel axis at every pixel for a {C,H,W} shape, over all values otherwise;
// exp(double(v - max)) summed in double, each result float(exp(...) / sum).
void host_softmax(std::vector<float>& data, const std::vector<int64_t>& shape);

}  // namespace cimsim::reference
