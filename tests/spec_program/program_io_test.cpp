// program.bin / weights.bin: byte layout spot checks, program directory, and corrupted
// inputs that must throw InputError (never crash).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <random>

#include "platform/spec/arch.h"
#include "platform/spec/program_asm.h"
#include "platform/spec/program_io.h"
#include "tests/spec_program/random_program.h"

namespace cimsim {
namespace {

Program small_program() {
  std::mt19937 g(7);
  return testing::random_program(g, 2);
}

std::string decode_error(const std::vector<uint8_t>& bin, const std::vector<uint8_t>& w) {
  try {
    decode_program(bin, w, "D");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ProgramBinary, HeaderBytesAreAsDocumented) {
  Program p;
  p.arch_fingerprint = 0x0102030405060708ull;
  p.model_name = "m";
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  const uint8_t expected[] = {
      'C', 'I', 'M', 'S', 'I', 'M', 'P', 'G', 3, 0, 0, 0,  // magic, u32 version
      8, 7, 6, 5, 4, 3, 2, 1,                              // u64 fingerprint
      1, 2, 1, 'm',                                        // model section: string "m"
      2, 1, 0,                                             // layers: count 0
      3, 1, 0,                                             // inputs: count 0
      4, 1, 0,                                             // outputs: count 0
      5, 1, 0,                                             // cores: count 0
  };
  ASSERT_EQ(bin.size(), sizeof(expected));
  EXPECT_EQ(0, std::memcmp(bin.data(), expected, sizeof(expected)));
  const uint8_t wexp[] = {'C', 'I', 'M', 'S', 'I', 'M', 'W', 'T', 3, 0, 0, 0};
  ASSERT_EQ(w.size(), sizeof(wexp));
  EXPECT_EQ(0, std::memcmp(w.data(), wexp, sizeof(wexp)));
}

TEST(ProgramBinary, WeightsAreStoredBackToBackAfterTheHeader) {
  Program p;
  p.cores.resize(2);
  TileDesc t;
  t.rows = 1;
  t.cols = 2;
  t.weights = {-1, 2};
  p.cores[0].tiles = {t};
  t.weights = {3, -4};
  p.cores[1].tiles = {t, t};
  std::vector<uint8_t> w;
  encode_program(p, &w);
  ASSERT_EQ(w.size(), 12u + 6u);
  EXPECT_EQ(static_cast<int8_t>(w[12]), -1);
  EXPECT_EQ(static_cast<int8_t>(w[15]), -4);
  EXPECT_EQ(weight_offsets(p), (std::vector<std::vector<int64_t>>{{12}, {14, 16}}));
}

TEST(ProgramBinary, BadMagicAndVersion) {
  Program p = small_program();
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  std::vector<uint8_t> b = bin;
  b[0] = 'X';
  EXPECT_EQ(decode_error(b, w),
            "D/program.bin: offset 0: bad magic, expected \"CIMSIMPG\" (not a cimsim program.bin)");
  b = bin;
  b[8] = 7;
  EXPECT_EQ(decode_error(b, w), "D/program.bin: version 7, this cimsim reads versions 2..3 (recompile the model with this cimsim)");
  std::vector<uint8_t> wb = w;
  wb[7] = 'X';
  EXPECT_EQ(decode_error(bin, wb),
            "D/weights.bin: offset 0: bad magic, expected \"CIMSIMWT\" (not a cimsim weights.bin)");
  wb = w;
  wb[8] = 1;
  EXPECT_EQ(decode_error(bin, wb),
            "D/weights.bin: version 1, D/program.bin is version 3 (recompile the model with this cimsim)");
  b = bin;
  b[8] = 1;  // a version-1 program (written before wload existed)
  EXPECT_EQ(decode_error(b, w),
            "D/program.bin: version 1, this cimsim reads versions 2..3 (recompile the model with this cimsim)");
  EXPECT_EQ(decode_error({}, w),
            "D/program.bin: offset 0: bad magic, expected \"CIMSIMPG\" (not a cimsim program.bin)");
}

// One core, one tile with the given ADC settings, as bytes of the current version.
Program one_tile_program(float full_scale, float offset_lsb) {
  Program p;
  p.model_name = "m";
  p.layers = {"conv"};
  p.cores.resize(1);
  TileDesc t;
  t.rows = 2;
  t.cols = 1;
  t.weights = {5, -6};
  t.adc_full_scale = full_scale;
  t.adc_offset_lsb = offset_lsb;
  p.cores[0].tiles = {t};
  return p;
}

TEST(ProgramBinary, Version3CarriesTheTileOffsetAfterTheFullScale) {
  const Program p = one_tile_program(12.5f, -0.375f);
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  EXPECT_EQ(decode_program(bin, w, "D"), p);
  // The tile record: pe, crossbar, rows, cols, unsigned, layer, f32 fullscale, f32 offset, ...
  const float fs = 12.5f, off = -0.375f;
  uint8_t record[14] = {0, 0, 4, 2, 1, 0};  // svarint 0, 0, 2, 1; bool 1; svarint 0
  std::memcpy(record + 6, &fs, 4);
  std::memcpy(record + 10, &off, 4);
  auto at = std::search(bin.begin(), bin.end(), std::begin(record), std::end(record));
  EXPECT_NE(at, bin.end()) << "tile record with fullscale then offset not found";
}

// A version-2 program.bin (no offset field) decodes as version 3 with offset 0; writing it
// again gives version 3. The v2 bytes are the v3 encoding with the offset's 4 bytes taken out
// of the tile record and the section lengths and versions adjusted.
TEST(ProgramBinary, Version2DecodesWithOffsetZero) {
  const Program p = one_tile_program(7.0f, 0.0f);
  std::vector<uint8_t> w;
  std::vector<uint8_t> v3 = encode_program(p, &w);
  const float fs = 7.0f;
  uint8_t fs_bytes[4];
  std::memcpy(fs_bytes, &fs, 4);
  auto at = std::search(v3.begin(), v3.end(), std::begin(fs_bytes), std::end(fs_bytes));
  ASSERT_NE(at, v3.end());
  const size_t off = static_cast<size_t>(at - v3.begin()) + 4;
  std::vector<uint8_t> v2(v3.begin(), v3.begin() + static_cast<std::ptrdiff_t>(off));
  v2.insert(v2.end(), v3.begin() + static_cast<std::ptrdiff_t>(off + 4), v3.end());
  // The core section (id 6, one-byte length: this program is small) is the last one.
  size_t sec = 20;
  while (v2[sec] != 6) sec += 2 + v2[sec + 1];
  ASSERT_LT(v2[sec + 1], 0x80);
  v2[sec + 1] = static_cast<uint8_t>(v2[sec + 1] - 4);
  v2[8] = 2;
  std::vector<uint8_t> w2 = w;
  w2[8] = 2;
  Program got = decode_program(v2, w2, "D");
  EXPECT_EQ(got.version, kProgramVersion);
  EXPECT_EQ(got, p);
  EXPECT_EQ(got.cores[0].tiles[0].adc_offset_lsb, 0.0f);
  std::vector<uint8_t> again_w;
  EXPECT_EQ(encode_program(got, &again_w), v3);
  // Mixed versions are refused.
  EXPECT_EQ(decode_error(v2, w), "D/weights.bin: version 3, D/program.bin is version 2 (recompile the model with this cimsim)");
}

TEST(ProgramBinary, NonFiniteOrHugeTileOffsetIsRejected) {
  for (float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 70000.0f}) {
    Program p = one_tile_program(0.0f, bad);
    std::vector<uint8_t> w;
    std::vector<uint8_t> bin = encode_program(p, &w);
    EXPECT_NE(decode_error(bin, w).find("core 0, tile 0: adc offset must be finite, -65536..65536 LSB"),
              std::string::npos)
        << bad;
  }
}

TEST(ProgramBinary, TruncationAtEveryByteThrows) {
  Program p = small_program();
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  ASSERT_EQ(decode_program(bin, w, "D"), p);
  for (size_t n = 0; n < bin.size(); ++n) {
    std::vector<uint8_t> cut(bin.begin(), bin.begin() + n);
    std::string e = decode_error(cut, w);
    ASSERT_EQ(e.rfind("D/program.bin: ", 0), 0u) << "cut at " << n << ": " << e;
  }
  for (size_t n = 0; n < w.size(); ++n) {
    std::vector<uint8_t> cut(w.begin(), w.begin() + n);
    std::string e = decode_error(bin, cut);
    ASSERT_EQ(e.rfind("D/", 0), 0u) << "weights cut at " << n << ": " << e;
  }
  std::vector<uint8_t> longer = bin;
  longer.push_back(0);
  EXPECT_EQ(decode_error(longer, w), "D/program.bin: offset " + std::to_string(bin.size()) +
                                         ": 1 unread bytes at the end of the file (trailing bytes)");
  std::vector<uint8_t> wlonger = w;
  wlonger.push_back(0);
  EXPECT_EQ(decode_error(bin, wlonger),
            "D/weights.bin: offset " + std::to_string(w.size()) + ": 1 bytes after the last tile's weights");
}

TEST(ProgramBinary, FlippedLengthFieldsAndEveryByteMutationNeverCrash) {
  Program p = small_program();
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  // The model section's length byte (offset 21) set to huge values.
  for (uint8_t v : {0x00, 0x7f, 0xff}) {
    std::vector<uint8_t> b = bin;
    b[21] = v;
    EXPECT_FALSE(decode_error(b, w).empty());
  }
  // Every byte, a few replacement values: either decodes to a valid program or throws.
  int errors = 0;
  for (size_t i = 12; i < bin.size(); ++i) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      if (bin[i] == v) continue;
      std::vector<uint8_t> b = bin;
      b[i] = v;
      try {
        Program q = decode_program(b, w, "D");
        validate(q, "again");  // anything accepted is a valid program
      } catch (const InputError& e) {
        ++errors;
        ASSERT_EQ(std::string(e.what()).rfind("D/", 0), 0u) << e.what();
      }
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(ProgramBinary, OutOfRangeWeightReferenceAndLengths) {
  Program p;
  p.cores.resize(1);
  TileDesc t;
  t.rows = 2;
  t.cols = 2;
  t.weights = {1, 2, 3, 4};
  p.cores[0].tiles = {t};
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  w.resize(14);  // tile wants [12, 16)
  std::string e = decode_error(bin, w);
  EXPECT_NE(e.find("tile 0 of core 0: weights [12, +4) not at 12 or beyond D/weights.bin (14 bytes)"),
            std::string::npos)
      << e;
  // A count that claims more elements than bytes remain.
  Program q;
  q.layers = {"a", "b"};
  std::vector<uint8_t> b2 = encode_program(q, &w);
  size_t layers_at = 20 + 3;  // after header and the empty model section
  ASSERT_EQ(b2[layers_at], 2);  // section id
  b2[layers_at + 2] = 100;       // layer count
  e = decode_error(b2, w);
  EXPECT_NE(e.find("offset 25: layer count 100 exceeds"), std::string::npos) << e;
}

TEST(ProgramBinary, DecodedProgramIsValidated) {
  Program p;
  p.cores.resize(1);
  Instruction j;
  j.op = Op::kJmp;
  j.imm[0] = 9;
  p.cores[0].code = {j};
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  EXPECT_EQ(decode_error(bin, w),
            "D/program.bin: core 0, instruction 0 (jmp): branch target 9 outside the code (0..0)");
}

TEST(ProgramDir, WriteAndReadBack) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(CIMSIM_BINARY_DIR) / "tmp_program_dir_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937 g(99);
  Program p = testing::random_program(g, 3);
  p.cores[1].code.clear();  // a core without code gets no .s file
  p.cores[1].tiles.clear();
  write_program_files(p, dir.string());
  EXPECT_TRUE(fs::exists(dir / "cores" / "core_000.s"));
  EXPECT_FALSE(fs::exists(dir / "cores" / "core_001.s"));
  EXPECT_TRUE(fs::exists(dir / "cores" / "core_002.s"));
  EXPECT_EQ(read_program_dir(dir.string()), p);
  // The .s file assembles back to the core, and its weight offsets point at the codes.
  std::ifstream f(dir / "cores" / "core_002.s");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<int64_t> offs;
  CoreProgram c = assemble_core(text, "core_002.s", &offs);
  std::ifstream wf(dir / "weights.bin", std::ios::binary);
  std::vector<char> wbytes((std::istreambuf_iterator<char>(wf)), std::istreambuf_iterator<char>());
  ASSERT_EQ(offs.size(), p.cores[2].tiles.size());
  for (size_t t = 0; t < offs.size(); ++t) {
    const std::vector<int8_t>& expect = p.cores[2].tiles[t].weights;
    ASSERT_LE(static_cast<size_t>(offs[t]) + expect.size(), wbytes.size());
    for (size_t i = 0; i < expect.size(); ++i) {
      EXPECT_EQ(static_cast<int8_t>(wbytes[offs[t] + i]), expect[i]);
    }
    c.tiles[t].weights = expect;
  }
  EXPECT_EQ(c, p.cores[2]);
  try {
    read_program_dir((dir / "missing").string());
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "missing").string() + "/program.bin: cannot open");
  }
  fs::remove_all(dir);
}

TEST(ProgramBinary, LargeStreamStaysSmall) {
  // ~1 M instructions of typical shapes: a few bytes each.
  Program p;
  p.cores.resize(1);
  TileDesc t;
  p.cores[0].tiles = {t};
  Instruction mvm;
  mvm.op = Op::kMvm;
  mvm.layer = 12;
  mvm.addr[0] = {1, 512};
  mvm.addr[1] = {2, 64};
  mvm.imm[1] = 1;
  p.cores[0].code.assign(1 << 20, mvm);
  std::vector<uint8_t> bin = encode_program(p, nullptr);
  // op, layer, tile, D base + imm (2 bytes), S base + imm (2 bytes), acc: 10 bytes each.
  EXPECT_LE(bin.size(), 10u * (1u << 20) + 100u);
  EXPECT_EQ(decode_program(bin, {'C', 'I', 'M', 'S', 'I', 'M', 'W', 'T', 3, 0, 0, 0}, "D"), p);
}

}  // namespace
}  // namespace cimsim
