// Static shape inference and attribute normalization for one node.
//
// Contract: infer_node() requires the shapes of the node's inputs to be known and the
// shape-defining inputs (Reshape shape, Squeeze/Unsqueeze axes, Clip bounds) to be constant.
// It sets shape/shape_known/dtype of every output Value and rewrites attributes into the
// normalized form documented in graph.h (explicit pads instead of auto_pad; Clip bounds and
// Squeeze/Unsqueeze axes as attributes, their inputs dropped; negative axes resolved).
// Invalid combinations (channel mismatch, non-broadcastable shapes, bad axes, non-constant
// shape inputs) throw InputError "SOURCE: node 'NAME' (Op): ...".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim::frontend {

void infer_node(ir::Graph& g, ir::Node& n);

// Numpy-style broadcast of two shapes; returns false when they are incompatible.
bool broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                      std::vector<int64_t>* out);

// Output extent of a sliding window over `in` elements (ONNX/PyTorch rule; with ceil_mode the
// last window must start inside the input or its begin padding).
int64_t window_out(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                   int64_t dilation, bool ceil_mode);

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace cimsim::frontend
