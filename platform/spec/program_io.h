// Program <-> files: DIR/program.bin, DIR/weights.bin, DIR/cores/core_NNN.s.
//
// Byte layouts in docs/isa.md ("Binary format"). Contract:
//  - decode_program(encode_program(p, &w), w, name) == p for any p that passes validate().
//  - Decoding is bounds-checked everywhere: bad magic, another version, truncation, counts
//    or lengths beyond the remaining bytes, weight ranges outside weights.bin, unknown
//    opcodes, trailing bytes -> InputError("NAME/program.bin: offset N: what"). Memory used
//    is bounded by the input size. The decoded program has passed validate(Program).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/isa.h"

namespace cimsim {

// weights_bin (may be null) receives weights.bin: tiles' codes in core order, tile order.
std::vector<uint8_t> encode_program(const Program& p, std::vector<uint8_t>* weights_bin);
// `name` (e.g. the program directory) prefixes "/program.bin" and "/weights.bin" in messages.
Program decode_program(const std::vector<uint8_t>& program_bin,
                       const std::vector<uint8_t>& weights_bin, const std::string& name);
// Writes dir/program.bin, dir/weights.bin and dir/cores/core_NNN.s for each core with code
// (creates dir/cores; the caller creates dir). Throws InputError when a file cannot be written.
void write_program_files(const Program& p, const std::string& dir);
// Reads dir/program.bin + dir/weights.bin (the .s files are for people).
Program read_program_dir(const std::string& dir);

// Byte offset in weights.bin of every tile's codes, [core][tile]; what encode_program uses.
std::vector<std::vector<int64_t>> weight_offsets(const Program& p);

constexpr char kProgramMagic[9] = "CIMSIMPG";
constexpr char kWeightsMagic[9] = "CIMSIMWT";
constexpr size_t kWeightsHeaderBytes = 12;  // magic + u32 version

}  // namespace cimsim
