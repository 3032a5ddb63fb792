// Writes the seed corpora of the fuzz targets: a few small valid inputs each.
// Usage: fuzz_make_corpus DIR   (writes DIR/program/*, DIR/asm/*, DIR/npy/*)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "platform/spec/npy.h"
#include "platform/spec/program_asm.h"
#include "platform/spec/program_io.h"
#include "tests/spec_program/random_program.h"

namespace {

void write(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  fs::path dir = argv[1];
  for (const char* t : {"program", "asm", "npy"}) fs::create_directories(dir / t);
  std::mt19937 g(2024);
  for (int k = 0; k < 4; ++k) {
    cimsim::Program p = cimsim::testing::random_program(g, 1 + k % 3);
    std::vector<uint8_t> w;
    std::vector<uint8_t> bin = cimsim::encode_program(p, &w);
    std::vector<uint8_t> in = {static_cast<uint8_t>(bin.size() & 0xff),
                               static_cast<uint8_t>(bin.size() >> 8)};
    in.insert(in.end(), bin.begin(), bin.end());
    in.insert(in.end(), w.begin(), w.end());
    write(dir / "program" / ("seed_" + std::to_string(k)), in);
    std::vector<int64_t> offsets = cimsim::weight_offsets(p)[0];
    std::string text = cimsim::disassemble_core(p.cores[0], 0, p.layers, &offsets);
    write(dir / "asm" / ("seed_" + std::to_string(k) + ".s"), std::vector<uint8_t>(text.begin(), text.end()));
  }
  write(dir / "npy" / "f4_2x3.npy", cimsim::encode_npy({{2, 3}, {0, 1, -2.5f, 3, 1e9f, -0.0f}}));
  write(dir / "npy" / "f4_scalar.npy", cimsim::encode_npy({{}, {7}}));
  write(dir / "npy" / "f4_empty.npy", cimsim::encode_npy({{0, 4}, {}}));
  return 0;
}
