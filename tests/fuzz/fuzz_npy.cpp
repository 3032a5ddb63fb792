// libFuzzer target: parse_npy on arbitrary bytes.
// Oracle: only InputError may escape; an accepted array written back as float32 parses to
// the same shape and the same bits.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  cimsim::NpyArray a;
  try {
    a = cimsim::parse_npy(bytes, "fuzz.npy");
  } catch (const cimsim::InputError&) {
    return 0;
  }
  cimsim::NpyArray b = cimsim::parse_npy(cimsim::encode_npy(a), "again.npy");
  if (b.shape != a.shape || b.data.size() != a.data.size()) std::abort();
  if (!a.data.empty() && std::memcmp(a.data.data(), b.data.data(), 4 * a.data.size()) != 0) {
    std::abort();
  }
  return 0;
}
