// Replays the committed seed corpora (tests/fuzz/corpus/<target>/*) through the fuzz
// targets' entry points, so regressions stay tested in every build, clang or not.
// Each target source is compiled here with LLVMFuzzerTestOneInput renamed (see CMakeLists).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern "C" int fuzz_program_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_asm_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_npy_one_input(const uint8_t* data, size_t size);

namespace {

size_t replay(const std::string& target, int (*entry)(const uint8_t*, size_t)) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(CIMSIM_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target;
  size_t n = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    EXPECT_EQ(entry(bytes.data(), bytes.size()), 0);
    ++n;
  }
  return n;
}

TEST(FuzzCorpus, Program) { EXPECT_GE(replay("program", fuzz_program_one_input), 3u); }
TEST(FuzzCorpus, Asm) { EXPECT_GE(replay("asm", fuzz_asm_one_input), 3u); }
TEST(FuzzCorpus, Npy) { EXPECT_GE(replay("npy", fuzz_npy_one_input), 3u); }

}  // namespace
