// Replays the committed seed corpora (tests/fuzz/corpus/<target>/*) through the fuzz
// targets' entry points, so regressions stay tested in every build, clang or not.
// Each target source is compiled here with LLVMFuzzerTestOneInput renamed (see CMakeLists).
#include <gtest/gtest.h>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "platform/spec/arch.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern "C" int fuzz_program_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_asm_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_npy_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_arch_one_input(const uint8_t* data, size_t size);
extern "C" int fuzz_onnx_one_input(const uint8_t* data, size_t size);

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
TEST(FuzzCorpus, Arch) { EXPECT_GE(replay("arch", fuzz_arch_one_input), 3u); }
TEST(FuzzCorpus, Onnx) { EXPECT_GE(replay("onnx", fuzz_onnx_one_input), 3u); }

// The seeds (not the crash_* regression inputs) must be accepted, or the fuzzers would start
// from inputs that never get past the first checks.
std::vector<std::filesystem::path> seeds(const std::string& target) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  for (const fs::directory_entry& e :
       fs::directory_iterator(fs::path(CIMSIM_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target)) {
    if (e.is_regular_file() && e.path().filename().string().rfind("crash_", 0) != 0) {
      out.push_back(e.path());
    }
  }
  return out;
}

TEST(FuzzCorpus, ArchSeedsAreValidSpecs) {
  std::vector<std::filesystem::path> files = seeds("arch");
  EXPECT_GE(files.size(), 3u);
  for (const std::filesystem::path& p : files) {
    EXPECT_NO_THROW(cimsim::load_arch_spec(p.string())) << p;
  }
}

TEST(FuzzCorpus, OnnxSeedsAreValidModels) {
  std::vector<std::filesystem::path> files = seeds("onnx");
  EXPECT_GE(files.size(), 5u);
  for (const std::filesystem::path& p : files) {
    EXPECT_NO_THROW({
      cimsim::ir::Graph g = cimsim::frontend::load_onnx(p.string());
      cimsim::frontend::simplify(g);
      EXPECT_FALSE(g.nodes.empty()) << p;
    }) << p;
  }
}

}  // namespace
