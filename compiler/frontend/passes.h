// Graph simplification passes and the readable IR dump.
//
// Contract of simplify(g) (idempotent; sets g.simplified):
//  1. Visits nodes in topological order; Identity and Dropout are removed (their output is
//     replaced by their input; a used Dropout mask becomes a constant of ones).
//  2. Infers every output shape/dtype and normalizes attributes (shape_inference.h).
//  3. Shape nodes become int64 constants; every node whose inputs are all constant is
//     evaluated with the float kernels and replaced by constant outputs.
//  4. QDQ: a DequantizeLinear with a constant input (weights: Q->DQ on float weights, or int8
//     initializer->DQ) is folded into the dequantized float constant, and the constant gets
//     `quant` = {scale, zero_point, axis, is_unsigned}. A QuantizeLinear->DequantizeLinear pair
//     on an activation x (DQ reads only Q's output) is removed: readers of the DQ output read
//     x, and x gets `quant` from the pair (is_unsigned when the codes are uint8). The float
//     graph then computes without the rounding the pair would apply. A QuantizeLinear or
//     DequantizeLinear that is not part of such a pair stays and is executed.
//  5. BatchNormalization whose input is produced by a Conv/Gemm with constant weights, and
//     which is that output's only reader (and not a graph output), is folded into new
//     weight/bias constants; other BatchNormalization nodes stay and are executed.
//  6. Dead-node elimination: nodes that no graph output depends on are removed, and the data
//     of constants that no remaining node reads is released (the Value stays, not constant).
// Bad models throw InputError (see shape_inference.h).
#pragma once

#include <string>

#include "compiler/frontend/graph.h"

namespace cimsim::frontend {

void simplify(ir::Graph& g);

// One line per node: "name: Op(in [shape], ...) -> out [shape]  {key attributes}", constants
// by shape only, quantization annotations as "q=s:scale,u8|i8"; preceded by the inputs and
// followed by the outputs.
std::string dump_graph(const ir::Graph& g);

}  // namespace cimsim::frontend
