// libFuzzer target: assemble_core on arbitrary text.
// Oracle: only InputError may escape; accepted text disassembles to text that assembles to
// the same core, and that text is a fixed point of disassemble(assemble(.)).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/program_asm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int64_t> offsets;
  cimsim::CoreProgram core;
  try {
    core = cimsim::assemble_core(text, "fuzz.s", &offsets);
  } catch (const cimsim::InputError&) {
    return 0;
  }
  try {
    cimsim::validate(core, 0, 4, "fuzz.s");
  } catch (const cimsim::InputError&) {
  }
  std::string d1 = cimsim::disassemble_core(core, 0, {}, &offsets);
  std::vector<int64_t> offsets2;
  cimsim::CoreProgram again = cimsim::assemble_core(d1, "d1.s", &offsets2);
  if (!(again == core) || offsets2 != offsets) std::abort();
  if (cimsim::disassemble_core(again, 0, {}, &offsets2) != d1) std::abort();
  return 0;
}
