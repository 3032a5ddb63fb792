// libFuzzer target: ONNX import (graph_from_model) + simplify + dump_graph on arbitrary bytes.
// The bytes are a serialized ModelProto; bytes that protobuf itself rejects are skipped (the
// file loader turns them into an InputError before the frontend sees them). External data is
// resolved against an empty private folder, so fuzzed locations never read real files.
// Oracle: only InputError may escape; any other exception, crash or sanitizer report is a bug.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "platform/spec/arch.h"

namespace {

const std::string& empty_base_dir() {
  static const std::string dir = [] {
    std::filesystem::path p =
        std::filesystem::temp_directory_path() / "cimsim_fuzz_onnx_base" / "model_dir";
    std::filesystem::create_directories(p);
    return p.string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) return 0;
  try {
    cimsim::ir::Graph g = cimsim::frontend::graph_from_model(model, "fuzz.onnx", empty_base_dir());
    cimsim::frontend::simplify(g);
    if (cimsim::frontend::dump_graph(g).empty()) std::abort();
  } catch (const cimsim::InputError&) {
    return 0;
  }
  return 0;
}
