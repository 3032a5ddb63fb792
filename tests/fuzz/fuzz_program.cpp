// libFuzzer target: decode_program on arbitrary bytes.
// Input layout: u16 little-endian split point (mod the rest's size + 1), then program.bin
// bytes up to the split, then weights.bin bytes. Oracle: only InputError may escape the
// decoder, and whatever it accepts re-encodes to a program that decodes to the same value.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/program_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t rest = size - 2;
  size_t split = (static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8)) % (rest + 1);
  std::vector<uint8_t> program(data + 2, data + 2 + split);
  std::vector<uint8_t> weights(data + 2 + split, data + size);
  cimsim::Program p;
  try {
    p = cimsim::decode_program(program, weights, "fuzz");
  } catch (const cimsim::InputError&) {
    return 0;
  }
  std::vector<uint8_t> w2;
  std::vector<uint8_t> b2 = cimsim::encode_program(p, &w2);
  if (!(cimsim::decode_program(b2, w2, "fuzz2") == p)) std::abort();
  return 0;
}
