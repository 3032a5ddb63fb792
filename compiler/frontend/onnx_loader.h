// ONNX import: ModelProto -> ir::Graph.
//
// Contract: load_onnx() either returns a graph whose nodes are topologically sorted, whose
// every input name resolves to a graph input, an initializer or an earlier node output, and
// whose every node is a supported operator from the default domain — or throws
// cimsim::InputError whose message starts with "FILE: " and names the node or tensor at fault
// (truncated/malformed protobuf, unsupported operator or data type, initializer size that
// does not match its shape, external data outside the model's folder, cycles, unknown names).
// Shapes of intermediate values are not yet known: run simplify() (passes.h) next.
//
// Normalizations done here (documented in docs/frontend.md):
//  - Constant nodes become constant Values (no node is emitted).
//  - Symbolic or missing dimensions of graph inputs become 1 (batch N = 1, see graph.h).
//  - Softmax gets an explicit "axis" and "coerce_2d" (1 for opset < 13: the input is seen as
//    2-D [prod(dims < axis), prod(dims >= axis)]).
//  - Graph inputs that also have an initializer are constants (ONNX IR < 4 lists weights as
//    inputs).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "compiler/frontend/graph.h"

namespace cimsim::frontend {

// Loads and checks an ONNX model file (any size up to 2 GB; external data allowed).
ir::Graph load_onnx(const std::string& path);

// Same, from an already parsed model. `source` prefixes error messages; `base_dir` is the
// folder external data is resolved against ("" = current directory).
ir::Graph graph_from_model(const onnx::ModelProto& model, const std::string& source,
                           const std::string& base_dir);

// Decodes one TensorProto (typed fields, raw_data or external data) into a constant Value:
// `data` always, `int_data` for integer types. `source` prefixes error messages.
ir::Value value_from_tensor(const onnx::TensorProto& t, const std::string& base_dir,
                            const std::string& source);

}  // namespace cimsim::frontend
