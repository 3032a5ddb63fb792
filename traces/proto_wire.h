// Protocol-buffer wire format, hand-encoded: just enough to write the Perfetto trace messages
// timeline.pftrace uses, without a protobuf library or generated code.
//
// Contract: ProtoWriter appends fields to a byte string in the standard wire format
// (https://protobuf.dev/programming-guides/encoding/): varint (wire type 0), 64-bit
// (type 1, little-endian double) and length-delimited (type 2) fields; a nested message is
// built in its own ProtoWriter and appended with message(). (The tests read the files back
// with their own decoder, tests/traces/pftrace_reader.h.)
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

}  // namespace cimsim::proto
