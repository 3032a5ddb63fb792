// Publishing a fully written output directory in one step (compile, run, calibrate, synthesize,
// sweep points): every command stages its output in a sibling directory and calls this at the
// very end, so that a failure leaves no half-written directory and an existing one untouched.
//
// Contract: `staged` is a complete directory on the same filesystem as `out`. An existing `out`
// (directory or file) is first renamed to OUT.cimsim-old, then `staged` is renamed to `out` and
// the old one removed. If a rename fails, the old `out` is put back and InputError
// "OUT: cannot create: why" (or "cannot replace") is thrown; `staged` is then left for the
// caller to remove.
#pragma once

#include <string>

namespace cimsim {

void replace_directory(const std::string& staged, const std::string& out);

}  // namespace cimsim
