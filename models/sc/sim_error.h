// Runtime errors of a simulated program (out-of-range buffer or memory access, a branch
// outside the stream, a malformed table): thrown inside a core's thread, caught there, and
// exposed by Chip::error(). The message names the core, the pc and the instruction text.
#pragma once

#include <stdexcept>
#include <string>

namespace cimsim {

class SimError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cimsim
