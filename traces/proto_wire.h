// Protocol-buffer wire format, hand-encoded: just enough to write (and, in tests, read) the
// Perfetto trace messages timeline.pftrace uses, without a protobuf library or generated code.
//
// Contract: ProtoWriter appends fields to a byte string in the standard wire format
// (https://protobuf.dev/programming-guides/encoding/): varint (wire type 0), 64-bit
// (type 1, little-endian double) and length-delimited (type 2) fields; a nested message is
// built in its own ProtoWriter and appended with message(). ProtoReader walks the fields of
// one message; a truncated or malformed buffer makes next() return false and sets error().
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace cimsim::proto {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

inline void append_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

class ProtoWriter {
 public:
  void varint(uint32_t field, uint64_t v) {
    tag(field, kVarint);
    append_varint(out_, v);
  }
  void fixed_double(uint32_t field, double v) {
    tag(field, kFixed64);
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  void bytes(uint32_t field, const char* data, size_t size) {
    tag(field, kLengthDelimited);
    append_varint(out_, size);
    out_.append(data, size);
  }
  void string(uint32_t field, const std::string& s) { bytes(field, s.data(), s.size()); }
  void message(uint32_t field, const ProtoWriter& m) { bytes(field, m.out_.data(), m.out_.size()); }

  const std::string& data() const { return out_; }
  size_t size() const { return out_.size(); }
  void clear() { out_.clear(); }

 private:
  void tag(uint32_t field, WireType type) { append_varint(out_, (uint64_t{field} << 3) | type); }
  std::string out_;
};

// One field as read: varint/fixed values in `value`, length-delimited payloads in data/size.
struct ProtoField {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t value = 0;
  const char* data = nullptr;
  size_t size = 0;
  double as_double() const {
    double d;
    std::memcpy(&d, &value, sizeof d);
    return d;
  }
  std::string as_string() const { return std::string(data, size); }
};

class ProtoReader {
 public:
  ProtoReader(const char* data, size_t size) : p_(data), end_(data + size) {}
  explicit ProtoReader(const std::string& s) : ProtoReader(s.data(), s.size()) {}
  explicit ProtoReader(const ProtoField& f) : ProtoReader(f.data, f.size) {}

  // Reads the next field; false at the end of the message or on malformed input.
  bool next(ProtoField& f) {
    if (p_ == end_ || error_) return false;
    uint64_t key;
    if (!read_varint(key)) return fail();
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<WireType>(key & 7);
    switch (f.type) {
      case kVarint:
        return read_varint(f.value) || fail();
      case kFixed64:
        return read_fixed(f.value, 8) || fail();
      case kFixed32:
        return read_fixed(f.value, 4) || fail();
      case kLengthDelimited: {
        uint64_t n;
        if (!read_varint(n) || n > static_cast<uint64_t>(end_ - p_)) return fail();
        f.data = p_;
        f.size = static_cast<size_t>(n);
        p_ += n;
        return true;
      }
    }
    return fail();
  }
  bool error() const { return error_; }

 private:
  bool fail() {
    error_ = true;
    return false;
  }
  bool read_varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool read_fixed(uint64_t& v, int n) {
    if (end_ - p_ < n) return false;
    v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p_[i])} << (8 * i);
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
  bool error_ = false;
};

}  // namespace cimsim::proto
