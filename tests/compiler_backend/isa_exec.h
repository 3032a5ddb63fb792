// Test-only functional executor of a Program (docs/isa.md semantics, no timing): every core
// runs its stream in order; cores are interleaved cooperatively, a recv blocks until the
// matching send (source core, tag, FIFO) happened. Written independently of the backend so
// that compiled streams can be checked against a naive reference of the quantized network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/isa.h"

namespace cimsim::testing {

struct ExecResult {
  bool ok = false;
  std::string error;               // deadlock, out-of-bounds access, length mismatch, ...
  std::vector<uint8_t> global;     // global memory after the run
  int64_t instructions = 0;
};

// `global` holds the inputs (codes at each TensorIO's addresses); it is resized as needed.
ExecResult execute(const Program& p, int64_t buffer_bytes, std::vector<uint8_t> global,
                   int32_t batch);

}  // namespace cimsim::testing
