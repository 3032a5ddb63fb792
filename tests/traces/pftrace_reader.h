// Test-side decoder of timeline.pftrace (header-only, needs only zlib, so the end-to-end tests
// can use it without cimsim's libraries): an independent reading of the Perfetto wire format
// (field numbers from perfetto/protos/perfetto/trace/*.proto, written out again here rather
// than taken from the writer) that rebuilds tracks and slices the way trace_processor does:
// BEGIN pushes a slice on its track, END closes the innermost open one. Every violation of
// what trace_processor needs (unknown track or interned name, END without BEGIN, a track's
// events out of time order, a slice left open, a missing sequence id or incremental-state
// flag, a compressed packet over 512 KB) is recorded in `errors`.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>


namespace cimsim::pftest {

// Protocol-buffer wire format, read side (https://protobuf.dev/programming-guides/encoding/).
namespace proto {
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
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

}  // namespace proto

struct Track {
  bool process = false;
  int pid = -1, tid = -1;
  std::string name;
  uint64_t parent = 0;
};

struct Slice {
  uint64_t track = 0;
  std::string name;
  uint64_t start_ns = 0, end_ns = 0;
  bool closed = false;
  std::map<std::string, std::string> args;  // uint and string values as text
  double energy_pj = 0;
};

struct Trace {
  std::map<uint64_t, Track> tracks;
  std::vector<Slice> slices;
  std::vector<std::string> errors;
  size_t packets = 0, compressed = 0, largest_compressed = 0;
  const Track& track_of(const Slice& s) const { return tracks.at(s.track); }
};

inline std::string inflate_bytes(const char* data, size_t size, std::vector<std::string>& errors) {
  z_stream z{};
  std::string out;
  if (inflateInit(&z) != Z_OK) {
    errors.push_back("inflateInit failed");
    return out;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  char buf[65536];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      errors.push_back("bad deflate stream");
      break;
    }
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

class Decoder {
 public:
  Trace trace;

  void decode_trace(const char* data, size_t size, bool nested) {
    proto::ProtoReader r(data, size);
    proto::ProtoField f;
    while (r.next(f)) {
      if (f.number != 1 || f.type != proto::kLengthDelimited) {
        trace.errors.push_back("Trace: unexpected field " + std::to_string(f.number));
        continue;
      }
      packet(f, nested);
    }
    if (r.error()) trace.errors.push_back("Trace: malformed");
  }

  void finish() {
    for (const auto& [uuid, stack] : open_)
      if (!stack.empty()) trace.errors.push_back("track " + std::to_string(uuid) + ": slice left open");
  }

 private:
  std::map<uint64_t, std::string> names_, arg_names_;
  std::map<uint64_t, std::vector<size_t>> open_;
  std::map<uint64_t, uint64_t> last_ts_;
  bool cleared_ = false;

  void packet(const proto::ProtoField& pf, bool nested) {
    ++trace.packets;
    proto::ProtoReader r(pf);
    proto::ProtoField f;
    uint64_t ts = 0, seq = 0, flags = 0;
    const char* event = nullptr;
    size_t event_size = 0;
    while (r.next(f)) {
      switch (f.number) {
        case 8: ts = f.value; break;
        case 10: seq = f.value; break;
        case 13: flags = f.value; break;
        case 12: interned(f); break;
        case 60: descriptor(f); break;
        case 11: event = f.data; event_size = f.size; break;
        case 50: {
          if (nested) trace.errors.push_back("compressed packets inside compressed packets");
          ++trace.compressed;
          trace.largest_compressed = std::max(trace.largest_compressed, pf.size + 4);
          std::string raw = inflate_bytes(f.data, f.size, trace.errors);
          decode_trace(raw.data(), raw.size(), true);
          break;
        }
        default: trace.errors.push_back("TracePacket: unexpected field " + std::to_string(f.number));
      }
    }
    if (r.error()) trace.errors.push_back("TracePacket: malformed");
    if (flags & 1) cleared_ = true;
    if (event) {
      if (seq != 1) trace.errors.push_back("track event without trusted_packet_sequence_id 1");
      if (!(flags & 2) || !cleared_) trace.errors.push_back("track event without valid incremental state");
      track_event(ts, event, event_size);
    }
  }

  void interned(const proto::ProtoField& pf) {
    proto::ProtoReader r(pf);
    proto::ProtoField f;
    while (r.next(f)) {
      proto::ProtoReader e(f);
      proto::ProtoField g;
      uint64_t iid = 0;
      std::string name;
      while (e.next(g)) {
        if (g.number == 1) iid = g.value;
        if (g.number == 2) name = g.as_string();
      }
      if (f.number == 2) names_[iid] = name;
      else if (f.number == 3) arg_names_[iid] = name;
      else trace.errors.push_back("InternedData: unexpected field " + std::to_string(f.number));
    }
  }

  void descriptor(const proto::ProtoField& pf) {
    proto::ProtoReader r(pf);
    proto::ProtoField f;
    uint64_t uuid = 0;
    Track t;
    while (r.next(f)) {
      if (f.number == 1) uuid = f.value;
      if (f.number == 5) t.parent = f.value;
      if (f.number == 2) t.name = f.as_string();
      if (f.number == 3 || f.number == 4) {
        t.process = f.number == 3;
        proto::ProtoReader d(f);
        proto::ProtoField g;
        while (d.next(g)) {
          if (g.number == 1) t.pid = static_cast<int>(g.value);
          if (g.number == 2 && !t.process) t.tid = static_cast<int>(g.value);
          if ((g.number == 6 && t.process) || (g.number == 5 && !t.process)) t.name = g.as_string();
        }
      }
    }
    if (trace.tracks.count(uuid)) trace.errors.push_back("track " + std::to_string(uuid) + " described twice");
    trace.tracks[uuid] = t;
  }

  void track_event(uint64_t ts, const char* data, size_t size) {
    proto::ProtoReader r(data, size);
    proto::ProtoField f;
    uint64_t type = 0, uuid = 0, name_iid = 0;
    Slice s;
    while (r.next(f)) {
      if (f.number == 9) type = f.value;
      if (f.number == 11) uuid = f.value;
      if (f.number == 10) name_iid = f.value;
      if (f.number == 4) {
        proto::ProtoReader a(f);
        proto::ProtoField g;
        std::string key, value;
        double dv = 0;
        bool is_double = false;
        while (a.next(g)) {
          if (g.number == 1) key = arg_names_.count(g.value) ? arg_names_[g.value] : "?";
          if (g.number == 3) value = std::to_string(g.value);
          if (g.number == 6) value = g.as_string();
          if (g.number == 5) {
            dv = g.as_double();
            is_double = true;
          }
        }
        if (key == "?") trace.errors.push_back("debug annotation with an unknown name iid");
        if (is_double && key == "energy_pj") s.energy_pj = dv;
        else s.args[key] = value;
      }
    }
    if (!trace.tracks.count(uuid) || trace.tracks[uuid].process) {
      trace.errors.push_back("event on undescribed or process track " + std::to_string(uuid));
      return;
    }
    auto last = last_ts_.find(uuid);
    if (last != last_ts_.end() && ts < last->second)
      trace.errors.push_back("track " + std::to_string(uuid) + ": events out of time order");
    last_ts_[uuid] = ts;
    auto& stack = open_[uuid];
    if (type == 1) {
      if (!names_.count(name_iid)) trace.errors.push_back("BEGIN with an unknown name iid");
      s.track = uuid;
      s.name = names_[name_iid];
      s.start_ns = ts;
      stack.push_back(trace.slices.size());
      trace.slices.push_back(s);
    } else if (type == 2) {
      if (stack.empty()) {
        trace.errors.push_back("END without an open slice");
        return;
      }
      Slice& open = trace.slices[stack.back()];
      stack.pop_back();
      open.end_ns = ts;
      open.closed = true;
    } else {
      trace.errors.push_back("unexpected track event type " + std::to_string(type));
    }
  }
};

inline Trace decode(const std::string& bytes) {
  Decoder d;
  d.decode_trace(bytes.data(), bytes.size(), false);
  d.finish();
  return d.trace;
}

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace cimsim::pftest
