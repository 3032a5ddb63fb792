// Float reference interpreter: runs a simplified ir::Graph on float tensors.
//
// Contract: `g` must have been through frontend::simplify() (throws std::logic_error
// otherwise). `inputs` holds one tensor per g.inputs, in order. Each input either has exactly
// its declared shape, or — when every input's declared leading dimension is 1 — any leading
// dimension N (the same for all inputs): the graph then runs once per sample and the outputs
// are concatenated along dimension 0 (see graph.h "Batch"). Returns one tensor per
// g.outputs. Wrong input count/shape/size throws InputError ("SOURCE: input 'x': ...").
// Intermediate tensors are freed after their last use.
#pragma once

#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim::reference {

std::vector<ir::FloatTensor> run_float(const ir::Graph& g, const std::vector<ir::FloatTensor>& inputs);

}  // namespace cimsim::reference
