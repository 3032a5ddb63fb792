// Trained weights: a file of float32 tensors that replaces a model's trainable constants.
//
// Written by the PyTorch module of `cimsim export-training` (save_weights()), read by
// `cimsim compile/run/reference --weights W`. Format (docs/training.md, "Weights file"):
//   line 1: "cimsim-weights 1"
//   line 2: one JSON object {"tensors": [{"name": NAME, "shape": [d0, d1, ...]}, ...]}
//   then:   the tensors' float32 little-endian values, C order, in index order, nothing after.
//
// Contract
//  - trainable_constants(g): the constants a quantized matrix layer reads as its weights or
//    bias, in node order without repeats: input 1 (and 2) of every Conv, Gemm and MatMul whose
//    operand is a constant in the simplified graph. For a model without folded
//    BatchNormalization these are ONNX initializers by name; a folded one is named
//    "<weight>_bnfold_<bn node>" / "<bn node>_bias_bnfold" (passes.cpp).
//  - apply_trained_weights(g, path): `g` simplified; replaces the data of every trainable
//    constant by the file's tensor of the same name, before quantization. The file must hold
//    exactly the trainable constants (none missing, none unknown, each once) with the same
//    shapes and only finite values; otherwise InputError "PATH: tensor 'NAME': ...".
//    Nothing in `g` changes when it throws.
//  - read_weights_file / write_weights_file: the format above (write is atomic: a temporary
//    then a rename). Malformed files throw InputError naming the file.
#pragma once

#include <string>
#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim::frontend {

struct NamedTensor {
  std::string name;
  ir::FloatTensor tensor;
};

std::vector<int> trainable_constants(const ir::Graph& g);

std::vector<NamedTensor> read_weights_file(const std::string& path);
void write_weights_file(const std::string& path, const std::vector<NamedTensor>& tensors);

void apply_trained_weights(ir::Graph& g, const std::string& path);

}  // namespace cimsim::frontend
