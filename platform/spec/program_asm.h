// Text form of one core's program (DIR/cores/core_NNN.s): disassembler and assembler.
//
// Syntax in docs/isa.md ("Assembly syntax"). Contract:
//  - disassemble_core() prints every field of every instruction and table; labels L<index>
//    only where something branches; `.layer N` whenever the layer field changes.
//  - assemble_core(disassemble_core(c)) == c except that tile weights come back empty
//    (they live in weights.bin; read_program_dir() fills them).
//  - disassemble_core(assemble_core(t)) == t for text the disassembler produced (with the
//    same layer names and weight offsets).
//  - assemble_core() throws InputError("FILE:LINE:COL: expected ...") on any syntax error;
//    it checks syntax and per-field int ranges, not cross references (use validate()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/isa.h"

namespace cimsim {

// layer_names (may be empty) only adds comments. weight_offsets, when given (one per tile),
// prints `weights=@OFFSET` (byte offset of the tile's codes in weights.bin).
std::string disassemble_core(const CoreProgram& core, int core_index,
                             const std::vector<std::string>& layer_names,
                             const std::vector<int64_t>* weight_offsets = nullptr);

// weight_offsets, when given, receives one entry per tile (-1 where `weights=` is absent).
CoreProgram assemble_core(const std::string& text, const std::string& filename,
                          std::vector<int64_t>* weight_offsets = nullptr);

}  // namespace cimsim
