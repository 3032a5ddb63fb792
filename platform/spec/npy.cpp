// .npy reader and writer (format: numpy.lib.format, versions 1.0-3.0).
#include "platform/spec/npy.h"

#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim {

namespace {

struct Header {
  std::string descr;
  bool have_descr = false, have_order = false, have_shape = false;
  bool fortran = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal; only the subset numpy writes is accepted.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: header: {} at header character {}", name_, what, p_));
  }
  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  std::string str() {
    ws();
    if (p_ >= s_.size() || (s_[p_] != '\'' && s_[p_] != '"')) fail("expected a quoted string");
    char q = s_[p_++];
    size_t b = p_;
    while (p_ < s_.size() && s_[p_] != q) ++p_;
    if (p_ >= s_.size()) fail("unterminated string");
    return s_.substr(b, p_++ - b);
  }
  bool boolean() {
    ws();
    if (s_.compare(p_, 4, "True") == 0) {
      p_ += 4;
      return true;
    }
    if (s_.compare(p_, 5, "False") == 0) {
      p_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> v;
    if (!eat('(')) fail("expected '(' (shape tuple)");
    for (;;) {
      if (eat(')')) return v;
      ws();
      size_t b = p_;
      int64_t x = 0;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') {
        if (x > (int64_t{1} << 50)) fail("shape dimension too large");
        x = x * 10 + (s_[p_++] - '0');
      }
      if (p_ == b) fail("expected a non-negative integer in shape");
      v.push_back(x);
      if (v.size() > 64) fail("more than 64 dimensions");
      if (eat(')')) return v;
      if (!eat(',')) fail("expected ',' or ')' in shape");
    }
  }
  Header parse() {
    Header h;
    if (!eat('{')) fail("expected '{'");
    for (;;) {
      if (eat('}')) break;
      std::string key = str();
      if (!eat(':')) fail("expected ':'");
      if (key == "descr") {
        if (h.have_descr) fail("duplicate key 'descr'");
        ws();
        if (p_ < s_.size() && s_[p_] == '[') fail("structured dtypes are not supported");
        h.descr = str();
        h.have_descr = true;
      } else if (key == "fortran_order") {
        if (h.have_order) fail("duplicate key 'fortran_order'");
        h.fortran = boolean();
        h.have_order = true;
      } else if (key == "shape") {
        if (h.have_shape) fail("duplicate key 'shape'");
        h.shape = tuple();
        h.have_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      if (eat('}')) break;
      if (!eat(',')) fail("expected ',' or '}'");
    }
    ws();
    if (p_ != s_.size()) fail("unexpected text after the dict");
    if (!h.have_descr || !h.have_order || !h.have_shape) {
      fail("needs the keys 'descr', 'fortran_order' and 'shape'");
    }
    return h;
  }

 private:
  const std::string& s_;
  const std::string& name_;
  size_t p_ = 0;
};

enum class DType { kF4, kF8, kI8, kI4, kU1, kI1 };

}  // namespace

NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& name) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) {
    throw InputError(fmt::format("{}: not a .npy file (expected the \\x93NUMPY magic)", name));
  }
  int major = bytes[6], minor = bytes[7];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = bytes[8] | (static_cast<size_t>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw InputError(fmt::format("{}: truncated header", name));
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(bytes[8 + i]) << (8 * i);
    header_start = 12;
  } else {
    throw InputError(fmt::format("{}: .npy format version {}.{} not supported (1.0, 2.0, 3.0 are)",
                                 name, major, minor));
  }
  if (header_len > bytes.size() - header_start) {
    throw InputError(fmt::format("{}: truncated header ({} bytes announced, {} present)", name,
                                 header_len, bytes.size() - header_start));
  }
  std::string text(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);
  Header h = HeaderParser(text, name).parse();
  if (h.fortran) {
    throw InputError(fmt::format("{}: fortran_order True is not supported (save a C-order array)", name));
  }
  DType dt;
  size_t item = 0;
  const std::string& d = h.descr;
  if (d == "<f4") dt = DType::kF4, item = 4;
  else if (d == "<f8") dt = DType::kF8, item = 8;
  else if (d == "<i8") dt = DType::kI8, item = 8;
  else if (d == "<i4") dt = DType::kI4, item = 4;
  else if (d == "|u1" || d == "<u1") dt = DType::kU1, item = 1;
  else if (d == "|i1" || d == "<i1") dt = DType::kI1, item = 1;
  else if (!d.empty() && d[0] == '>') {
    throw InputError(fmt::format("{}: big-endian dtype '{}' is not supported", name, d));
  } else if (d.find('O') != std::string::npos) {
    throw InputError(fmt::format("{}: object arrays are not supported", name));
  } else {
    throw InputError(fmt::format("{}: dtype '{}' not supported (<f4 <f8 <i8 <i4 |u1 |i1 are)", name, d));
  }
  const size_t data_start = header_start + header_len;
  const size_t data_bytes = bytes.size() - data_start;
  // Product of the shape, saturated so it cannot overflow (a saturated product never fits).
  constexpr uint64_t kCap = uint64_t{1} << 59;
  uint64_t count = 1;
  for (int64_t dim : h.shape) {
    uint64_t d = static_cast<uint64_t>(dim);
    count = (d != 0 && count > kCap / d) ? kCap : count * d;
  }
  for (int64_t dim : h.shape) {
    if (dim == 0) count = 0;
  }
  if (count * item > data_bytes) {
    throw InputError(fmt::format("{}: truncated data: the shape needs {}{} bytes, the file has {}",
                                 name, count == kCap ? "more than " : "",
                                 count == kCap ? data_bytes : count * item, data_bytes));
  }
  if (count * item != data_bytes) {
    throw InputError(fmt::format("{}: {} bytes of data after the array (shape needs {})", name,
                                 data_bytes - count * item, count * item));
  }
  NpyArray a;
  a.shape = h.shape;
  a.data.resize(count);
  const uint8_t* p = bytes.data() + data_start;
  for (size_t i = 0; i < count; ++i, p += item) {
    switch (dt) {
      case DType::kF4: {
        float v;
        std::memcpy(&v, p, 4);
        a.data[i] = v;
        break;
      }
      case DType::kF8: {
        double v;
        std::memcpy(&v, p, 8);
        a.data[i] = static_cast<float>(v);
        break;
      }
      case DType::kI8: {
        int64_t v;
        std::memcpy(&v, p, 8);
        a.data[i] = static_cast<float>(v);
        break;
      }
      case DType::kI4: {
        int32_t v;
        std::memcpy(&v, p, 4);
        a.data[i] = static_cast<float>(v);
        break;
      }
      case DType::kU1:
        a.data[i] = static_cast<float>(*p);
        break;
      case DType::kI1:
        a.data[i] = static_cast<float>(static_cast<int8_t>(*p));
        break;
    }
  }
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(fmt::format("{}: cannot open", path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw InputError(fmt::format("{}: read failed", path));
  return parse_npy(bytes, path);
}

std::vector<uint8_t> encode_npy(const NpyArray& a) {
  uint64_t count = 1;
  bool any_zero = false;
  for (int64_t d : a.shape) any_zero = any_zero || d == 0;
  for (int64_t d : a.shape) {
    if (d < 0) throw InputError(fmt::format("write_npy: negative dimension {}", d));
    if (any_zero) {
      count = 0;
      continue;
    }
    if (count > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d)) {
      throw InputError("write_npy: shape too large");
    }
    count *= static_cast<uint64_t>(d);
  }
  if (count != a.data.size()) {
    throw InputError(fmt::format("write_npy: shape holds {} elements, data has {}", count,
                                 a.data.size()));
  }
  std::string shape;
  for (size_t i = 0; i < a.shape.size(); ++i) {
    shape += fmt::format("{}{}", i ? ", " : "", a.shape[i]);
  }
  if (a.shape.size() == 1) shape += ",";
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  // Like numpy's writer: room for the first axis to grow to 21 digits, then 64-byte alignment,
  // so our files are byte-identical to np.save's.
  if (!a.shape.empty()) {
    size_t digits = std::to_string(a.shape[0]).size();
    if (digits < 21) header.append(21 - digits, ' ');
  }
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535) throw InputError("write_npy: too many dimensions for a 1.0 header");
  std::string prefix = "\x93NUMPY";
  prefix += '\x01';
  prefix += '\x00';
  prefix += static_cast<char>(header.size() & 0xff);
  prefix += static_cast<char>(header.size() >> 8);
  prefix += header;
  std::vector<uint8_t> out(prefix.begin(), prefix.end());
  out.reserve(out.size() + 4 * a.data.size());
  for (float v : a.data) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(b >> (8 * i)));
  }
  return out;
}

void write_npy(const std::string& path, const NpyArray& a) {
  std::vector<uint8_t> bytes = encode_npy(a);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(fmt::format("{}: cannot open for writing", path));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw InputError(fmt::format("{}: write failed", path));
}

}  // namespace cimsim
