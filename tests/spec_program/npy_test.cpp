// .npy: files written by numpy itself (data/make_npy.py) read back, np.save's exact bytes
// reproduced, and every rejected case.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "platform/spec/arch.h"
#include "platform/spec/npy.h"

namespace cimsim {
namespace {

std::string data(const std::string& f) {
  return std::string(CIMSIM_SOURCE_DIR) + "/tests/spec_program/data/" + f;
}

std::string error_of(const std::string& path) {
  try {
    read_npy(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::vector<uint8_t>& b) {
  try {
    parse_npy(b, "x.npy");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A v1.0 file with the given header dict and raw data bytes.
std::vector<uint8_t> npy_bytes(const std::string& dict, const std::vector<uint8_t>& payload,
                               int major = 1) {
  std::string h = dict + "\n";
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  b.push_back(static_cast<uint8_t>(h.size() & 0xff));
  b.push_back(static_cast<uint8_t>(h.size() >> 8));
  if (major >= 2) {
    b.push_back(0);
    b.push_back(0);
  }
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

TEST(Npy, ReadsEveryAcceptedDtypeWrittenByNumpy) {
  NpyArray a = read_npy(data("f8_2x2.npy"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.25f, 3.0f, 1e10f}));
  a = read_npy(data("i8_3.npy"));
  EXPECT_EQ(a.data, (std::vector<float>{-5.0f, 0.0f, 123456789.0f}));
  a = read_npy(data("i4_2x1.npy"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(a.data, (std::vector<float>{7.0f, -8.0f}));
  a = read_npy(data("u1_4.npy"));
  EXPECT_EQ(a.data, (std::vector<float>{0, 1, 200, 255}));
  a = read_npy(data("i1_3.npy"));
  EXPECT_EQ(a.data, (std::vector<float>{-128, 0, 127}));
  a = read_npy(data("f4_scalar.npy"));
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.data, (std::vector<float>{-0.5f}));
  a = read_npy(data("f4_empty_0x3.npy"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(a.data.empty());
  a = read_npy(data("f4_v2.npy"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{0, 1, 2, 3, 4, 5}));
  a = read_npy(data("f4_v3.npy"));
  EXPECT_EQ(a.data, (std::vector<float>{2.5f}));
}

TEST(Npy, WriterMatchesNumpySaveByteForByte) {
  // Bytes of np.save(np.array([1.5, -2], np.float32)) from numpy 1.24.
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  h.append(118 - 1 - h.size(), ' ');
  h += '\n';
  std::vector<uint8_t> expect = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
  expect.insert(expect.end(), h.begin(), h.end());
  for (uint8_t b : {0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0}) expect.push_back(b);
  NpyArray a{{2}, {1.5f, -2.0f}};
  EXPECT_EQ(encode_npy(a), expect);
  // Scalar: header "(), " and no growth padding; also 128 bytes before the data.
  std::vector<uint8_t> s = encode_npy(NpyArray{{}, {1.0f}});
  ASSERT_EQ(s.size(), 132u);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (), }";
  EXPECT_EQ(std::string(s.begin() + 10, s.begin() + 10 + dict.size()), dict);
  EXPECT_EQ(std::string(s.begin() + 10 + dict.size(), s.begin() + 127), std::string(127 - 10 - dict.size(), ' '));
  EXPECT_EQ(s[127], '\n');
}

TEST(Npy, FileRoundTrip) {
  std::string path = std::string(CIMSIM_BINARY_DIR) + "/tmp_npy_round_trip.npy";
  NpyArray a{{2, 3, 1}, {0.0f, -1.0f, 3.25f, 1e-30f, -7e20f, 42.0f}};
  write_npy(path, a);
  NpyArray b = read_npy(path);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  std::filesystem::remove(path);
  EXPECT_THROW(write_npy(path, NpyArray{{2, 2}, {1.0f}}), InputError);
}

TEST(Npy, RejectsUnsupportedFilesFromNumpyWithClearMessages) {
  EXPECT_EQ(error_of(data("f4_fortran.npy")),
            data("f4_fortran.npy") + ": fortran_order True is not supported (save a C-order array)");
  EXPECT_EQ(error_of(data("f4_bigendian.npy")),
            data("f4_bigendian.npy") + ": big-endian dtype '>f4' is not supported");
  EXPECT_EQ(error_of(data("object.npy")), data("object.npy") + ": object arrays are not supported");
  EXPECT_EQ(error_of(data("f2.npy")),
            data("f2.npy") + ": dtype '<f2' not supported (<f4 <f8 <i8 <i4 |u1 |i1 are)");
  EXPECT_EQ(error_of(data("missing.npy")), data("missing.npy") + ": cannot open");
}

TEST(Npy, RejectsMalformedBytes) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::vector<uint8_t> two_floats(8, 0);
  ASSERT_EQ(parse_npy(npy_bytes(ok, two_floats), "x.npy").data.size(), 2u);
  EXPECT_EQ(parse_error({'N', 'U', 'M'}), "x.npy: not a .npy file (expected the \\x93NUMPY magic)");
  EXPECT_EQ(parse_error(npy_bytes(ok, two_floats, 4)),
            "x.npy: .npy format version 4.0 not supported (1.0, 2.0, 3.0 are)");
  EXPECT_EQ(parse_error(npy_bytes(ok, std::vector<uint8_t>(7, 0))),
            "x.npy: truncated data: the shape needs 8 bytes, the file has 7");
  EXPECT_EQ(parse_error(npy_bytes(ok, std::vector<uint8_t>(9, 0))),
            "x.npy: 1 bytes of data after the array (shape needs 8)");
  // Shape whose product overflows int64: must not allocate or wrap around.
  EXPECT_EQ(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (4294967296, 4294967296, 4294967296), }",
                                  two_floats)),
            "x.npy: truncated data: the shape needs more than 8 bytes, the file has 8");
  std::vector<uint8_t> b = npy_bytes(ok, two_floats);
  b[8] = 0xff;  // header length beyond the file
  EXPECT_EQ(parse_error(b), "x.npy: truncated header (255 bytes announced, " +
                                std::to_string(b.size() - 10) + " present)");
  EXPECT_NE(parse_error(npy_bytes("{'descr': '<f4', 'shape': (2,), }", two_floats))
                .find("needs the keys 'descr', 'fortran_order' and 'shape'"),
            std::string::npos);
  EXPECT_NE(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }",
                                  two_floats))
                .find("expected True or False"),
            std::string::npos);
  EXPECT_NE(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                                  two_floats))
                .find("expected a non-negative integer in shape"),
            std::string::npos);
  EXPECT_NE(parse_error(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                                  two_floats))
                .find("structured dtypes are not supported"),
            std::string::npos);
  // A zero dimension next to dimensions whose product overflows: an empty array, written back fine.
  NpyArray z = parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (4294967296, 4294967296, 4294967296, 0), }",
                                   {}),
                         "z.npy");
  EXPECT_TRUE(z.data.empty());
  EXPECT_EQ(parse_npy(encode_npy(z), "z2.npy").shape, z.shape);
  // Every truncation of a valid file throws.
  std::vector<uint8_t> full = encode_npy(NpyArray{{3}, {1, 2, 3}});
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    EXPECT_FALSE(parse_error(cut).empty()) << n;
  }
}

}  // namespace
}  // namespace cimsim
