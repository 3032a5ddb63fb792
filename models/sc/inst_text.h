// One instruction as assembly text ("copy [r1+0], [r0+64], seg=4, ..."), for error messages
// and Chip::blocked(). Walks operand_layout() so it matches the assembler's syntax.
#pragma once

#include <string>

#include "platform/spec/isa.h"

namespace cimsim {

std::string instruction_text(const Instruction& in);

}  // namespace cimsim
