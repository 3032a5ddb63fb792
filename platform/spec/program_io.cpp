// program.bin / weights.bin encoding and decoding, and the program directory files.
#include "platform/spec/program_io.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "platform/spec/arch.h"
#include "platform/spec/program_asm.h"

namespace cimsim {

namespace {

enum SectionId : uint8_t {
  kSecModel = 1,
  kSecLayers = 2,
  kSecInputs = 3,
  kSecOutputs = 4,
  kSecCores = 5,
  kSecCore = 6,
};

const char* section_name(uint8_t id) {
  switch (id) {
    case kSecModel: return "model";
    case kSecLayers: return "layers";
    case kSecInputs: return "inputs";
    case kSecOutputs: return "outputs";
    case kSecCores: return "cores";
    case kSecCore: return "core";
    default: return "unknown";
  }
}

class Writer {
 public:
  std::vector<uint8_t> bytes;
  void u8(uint8_t v) { bytes.push_back(v); }
  void raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    u8(static_cast<uint8_t>(v));
  }
  void svarint(int64_t v) {
    varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void f32(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    u32(b);
  }
  void str(const std::string& s) {
    varint(s.size());
    raw(s.data(), s.size());
  }
  void section(uint8_t id, const Writer& payload) {
    u8(id);
    varint(payload.bytes.size());
    raw(payload.bytes.data(), payload.bytes.size());
  }
};

// A bounds-checked cursor over [begin, end) of a file; offsets in messages are file offsets.
class Reader {
 public:
  Reader(const std::vector<uint8_t>& data, const std::string& file)
      : d_(data.data()), pos_(0), end_(data.size()), file_(file) {}

  [[noreturn]] void fail_at(size_t off, const std::string& what) const {
    throw InputError(fmt::format("{}: offset {}: {}", file_, off, what));
  }
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

  size_t pos() const { return pos_; }
  size_t remaining() const { return end_ - pos_; }
  bool done() const { return pos_ == end_; }

  void need(size_t n, const char* what) const {
    if (n > remaining()) {
      fail(fmt::format("truncated: {} needs {} bytes, {} left", what, n, remaining()));
    }
  }
  uint8_t u8(const char* what) {
    need(1, what);
    return d_[pos_++];
  }
  bool boolean(const char* what) {
    size_t at = pos_;
    uint8_t v = u8(what);
    if (v > 1) fail_at(at, fmt::format("{} must be 0 or 1, found {}", what, v));
    return v == 1;
  }
  uint32_t u32(const char* what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(d_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t u64(const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(d_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  uint64_t varint(const char* what) {
    size_t at = pos_;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8(what);
      uint64_t bits = b & 0x7f;
      if (shift == 63 && bits > 1) break;
      v |= bits << shift;
      if (!(b & 0x80)) return v;
    }
    fail_at(at, fmt::format("{}: malformed varint", what));
  }
  int64_t svarint(const char* what) {
    uint64_t u = varint(what);
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  int32_t s32(const char* what) {
    size_t at = pos_;
    int64_t v = svarint(what);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      fail_at(at, fmt::format("{} {} out of int32 range", what, v));
    }
    return static_cast<int32_t>(v);
  }
  uint64_t bounded(uint64_t max, const char* what) {
    size_t at = pos_;
    uint64_t v = varint(what);
    if (v > max) fail_at(at, fmt::format("{} {} out of range (max {})", what, v, max));
    return v;
  }
  // An element count: every element takes at least one byte, so it cannot exceed what is left.
  size_t count(const char* what) {
    size_t at = pos_;
    uint64_t n = varint(what);
    if (n > remaining()) {
      fail_at(at, fmt::format("{} {} exceeds the {} bytes left", what, n, remaining()));
    }
    return static_cast<size_t>(n);
  }
  float f32(const char* what) {
    uint32_t b = u32(what);
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  std::string str(const char* what) {
    size_t n = count(what);
    std::string s(reinterpret_cast<const char*>(d_ + pos_), n);
    pos_ += n;
    return s;
  }
  // Reads a section header and returns a reader limited to its payload; advances past it.
  Reader section(uint8_t expected_id) {
    size_t at = pos_;
    uint8_t id = u8("section id");
    if (id != expected_id) {
      fail_at(at, fmt::format("expected section {} ({}), found id {}", expected_id,
                              section_name(expected_id), id));
    }
    size_t len_at = pos_;
    uint64_t len = varint("section length");
    if (len > remaining()) {
      fail_at(len_at, fmt::format("section {} length {} exceeds the {} bytes left",
                                  section_name(id), len, remaining()));
    }
    Reader sub = *this;
    sub.end_ = pos_ + static_cast<size_t>(len);
    pos_ = sub.end_;
    return sub;
  }
  void expect_done(const char* what) const {
    if (!done()) fail(fmt::format("{} unread bytes at the end of {}", remaining(), what));
  }

 private:
  const uint8_t* d_;
  size_t pos_;
  size_t end_;
  std::string file_;
};

void write_io(Writer& w, const TensorIO& io) {
  w.str(io.name);
  w.varint(io.shape.size());
  for (int64_t d : io.shape) w.svarint(d);
  w.f32(io.scale);
  w.u8(io.is_unsigned ? 1 : 0);
  w.svarint(io.bits);
  w.svarint(io.global_addr);
  w.svarint(io.bytes_per_image);
  w.u8(io.host_softmax ? 1 : 0);
}

TensorIO read_io(Reader& r) {
  TensorIO io;
  io.name = r.str("tensor name length");
  size_t rank = r.count("tensor rank");
  for (size_t i = 0; i < rank; ++i) io.shape.push_back(r.svarint("tensor dimension"));
  io.scale = r.f32("tensor scale");
  io.is_unsigned = r.boolean("tensor is_unsigned");
  io.bits = r.s32("tensor bits");
  io.global_addr = r.svarint("tensor global_addr");
  io.bytes_per_image = r.svarint("tensor bytes_per_image");
  io.host_softmax = r.boolean("tensor host_softmax");
  return io;
}

uint8_t reg_of(const Instruction& in, int slot) {
  return slot == 0 ? in.rd : slot == 1 ? in.rs : in.rt;
}

void write_instruction(Writer& w, const Instruction& in) {
  w.u8(static_cast<uint8_t>(in.op));
  w.varint(in.layer);
  for (const OperandSpec& s : operand_layout(in.op)) {
    switch (s.kind) {
      case OperandKind::kReg:
        w.varint(reg_of(in, s.slot));
        break;
      case OperandKind::kAddr:
        w.varint(in.addr[s.slot].base);
        w.svarint(in.addr[s.slot].imm);
        break;
      case OperandKind::kImm:
      case OperandKind::kTarget:
      case OperandKind::kTile:
        w.svarint(in.imm[s.slot]);
        break;
    }
  }
}

Instruction read_instruction(Reader& r) {
  Instruction in;
  size_t at = r.pos();
  uint8_t code = r.u8("opcode");
  if (!is_known_op(code)) r.fail_at(at, fmt::format("unknown opcode {}", code));
  in.op = static_cast<Op>(code);
  in.layer = static_cast<uint16_t>(r.bounded(65535, "layer"));
  for (const OperandSpec& s : operand_layout(in.op)) {
    switch (s.kind) {
      case OperandKind::kReg: {
        uint8_t v = static_cast<uint8_t>(r.bounded(255, "register"));
        (s.slot == 0 ? in.rd : s.slot == 1 ? in.rs : in.rt) = v;
        break;
      }
      case OperandKind::kAddr:
        in.addr[s.slot].base = static_cast<uint8_t>(r.bounded(255, "base register"));
        in.addr[s.slot].imm = r.s32("address offset");
        break;
      case OperandKind::kImm:
      case OperandKind::kTarget:
      case OperandKind::kTile:
        in.imm[s.slot] = r.s32("immediate");
        break;
    }
  }
  return in;
}

void write_ints(Writer& w, const std::vector<int32_t>& v) {
  w.varint(v.size());
  for (int32_t x : v) w.svarint(x);
}

std::vector<int32_t> read_ints(Reader& r, const char* what) {
  size_t n = r.count(what);
  std::vector<int32_t> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) v.push_back(r.s32(what));
  return v;
}

std::string file_in(const std::string& name, const char* file) {
  return name.empty() ? std::string(file) : name + "/" + file;
}

}  // namespace

std::vector<std::vector<int64_t>> weight_offsets(const Program& p) {
  std::vector<std::vector<int64_t>> out(p.cores.size());
  int64_t off = static_cast<int64_t>(kWeightsHeaderBytes);
  for (size_t c = 0; c < p.cores.size(); ++c) {
    for (const TileDesc& t : p.cores[c].tiles) {
      out[c].push_back(off);
      off += static_cast<int64_t>(t.weights.size());
    }
  }
  return out;
}

std::vector<uint8_t> encode_program(const Program& p, std::vector<uint8_t>* weights_bin) {
  Writer w;
  w.raw(kProgramMagic, 8);
  w.u32(kProgramVersion);  // the layout written is always the current one
  w.u64(p.arch_fingerprint);
  Writer model;
  model.str(p.model_name);
  w.section(kSecModel, model);
  Writer layers;
  layers.varint(p.layers.size());
  for (const std::string& s : p.layers) layers.str(s);
  w.section(kSecLayers, layers);
  Writer inputs;
  inputs.varint(p.inputs.size());
  for (const TensorIO& io : p.inputs) write_io(inputs, io);
  w.section(kSecInputs, inputs);
  Writer outputs;
  outputs.varint(p.outputs.size());
  for (const TensorIO& io : p.outputs) write_io(outputs, io);
  w.section(kSecOutputs, outputs);
  Writer cores;
  cores.varint(p.cores.size());
  w.section(kSecCores, cores);

  Writer wts;
  wts.raw(kWeightsMagic, 8);
  wts.u32(kProgramVersion);
  for (const CoreProgram& core : p.cores) {
    Writer c;
    c.varint(core.code.size());
    for (const Instruction& in : core.code) write_instruction(c, in);
    c.varint(core.tiles.size());
    for (const TileDesc& t : core.tiles) {
      c.svarint(t.pe);
      c.svarint(t.crossbar);
      c.svarint(t.rows);
      c.svarint(t.cols);
      c.u8(t.input_unsigned ? 1 : 0);
      c.svarint(t.layer);
      c.f32(t.adc_full_scale);
      c.f32(t.adc_offset_lsb);
      c.svarint(t.weight_global_addr);
      c.varint(wts.bytes.size());
      c.varint(t.weights.size());
      wts.raw(t.weights.data(), t.weights.size());
    }
    c.varint(core.requant.size());
    for (const RequantDesc& q : core.requant) {
      c.u8(static_cast<uint8_t>(q.kind));
      c.svarint(q.qmin);
      c.svarint(q.qmax);
      c.svarint(q.channels);
      write_ints(c, q.bias);
      write_ints(c, q.multiplier);
      write_ints(c, q.shift);
      c.svarint(q.mult_a);
      c.svarint(q.mult_b);
      c.svarint(q.add_shift);
      c.u8(q.a_unsigned ? 1 : 0);
      c.u8(q.b_unsigned ? 1 : 0);
    }
    c.varint(core.luts.size());
    for (const LutDesc& l : core.luts) {
      c.u8(l.in_unsigned ? 1 : 0);
      write_ints(c, l.table);
    }
    w.section(kSecCore, c);
  }
  if (weights_bin) *weights_bin = std::move(wts.bytes);
  return std::move(w.bytes);
}

namespace {

// Where decode reads weights.bin from: bytes already in memory, or the file itself, read tile
// by tile straight into each TileDesc (no second 100-MB-class copy of the weights).
class WeightsSource {
 public:
  virtual ~WeightsSource() = default;
  virtual size_t size() const = 0;
  // Copies [off, off + len) into dst; the caller keeps off + len <= size().
  virtual void read(size_t off, size_t len, uint8_t* dst) = 0;
};

class MemoryWeights : public WeightsSource {
 public:
  explicit MemoryWeights(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  void read(size_t off, size_t len, uint8_t* dst) override {
    if (len > 0) std::memcpy(dst, bytes_.data() + off, len);
  }

 private:
  const std::vector<uint8_t>& bytes_;
};

// A regular file of a known size, read through a 1 MiB window: tiles are stored in order and
// are a few KB each, so this is one read() per MiB instead of one per tile.
class FileWeights : public WeightsSource {
 public:
  FileWeights(const std::string& path, size_t size) : path_(path), f_(path, std::ios::binary), size_(size) {
    if (!f_) throw InputError(fmt::format("{}: cannot open", path));
  }
  size_t size() const override { return size_; }
  void read(size_t off, size_t len, uint8_t* dst) override {
    while (len > 0) {
      if (off < win_off_ || off >= win_off_ + win_.size()) fill(off);
      const size_t n = std::min(len, win_off_ + win_.size() - off);
      std::memcpy(dst, win_.data() + (off - win_off_), n);
      dst += n;
      off += n;
      len -= n;
    }
  }

 private:
  static constexpr size_t kWindowBytes = size_t{1} << 20;
  void fill(size_t off) {
    const size_t n = off < size_ ? std::min(kWindowBytes, size_ - off) : 0;
    win_.resize(n);
    f_.clear();
    f_.seekg(static_cast<std::streamoff>(off));
    f_.read(reinterpret_cast<char*>(win_.data()), static_cast<std::streamsize>(n));
    if (n == 0 || !f_ || static_cast<size_t>(f_.gcount()) != n)
      throw InputError(fmt::format("{}: read failed at offset {} (file changed while reading?)", path_, off));
    win_off_ = off;
  }
  std::string path_;
  std::ifstream f_;
  size_t size_;
  std::vector<uint8_t> win_;
  size_t win_off_ = 0;
};

Program decode_program_from(const std::vector<uint8_t>& program_bin, WeightsSource& weights,
                            const std::string& name);

}  // namespace

Program decode_program(const std::vector<uint8_t>& program_bin,
                       const std::vector<uint8_t>& weights_bin, const std::string& name) {
  MemoryWeights weights(weights_bin);
  return decode_program_from(program_bin, weights, name);
}

namespace {

Program decode_program_from(const std::vector<uint8_t>& program_bin, WeightsSource& weights,
                            const std::string& name) {
  const std::string pfile = file_in(name, "program.bin");
  const std::string wfile = file_in(name, "weights.bin");
  // The header (magic, version) goes through a Reader for its messages; tiles are read
  // from `weights` directly into their TileDesc.
  std::vector<uint8_t> weights_head(std::min(weights.size(), kWeightsHeaderBytes));
  weights.read(0, weights_head.size(), weights_head.data());
  const size_t weights_size = weights.size();
  Program p;
  Reader r(program_bin, pfile);
  if (program_bin.size() < 8 || std::memcmp(program_bin.data(), kProgramMagic, 8) != 0) {
    r.fail_at(0, "bad magic, expected \"CIMSIMPG\" (not a cimsim program.bin)");
  }
  r.need(8, "magic");
  for (int i = 0; i < 8; ++i) r.u8("magic");
  // Versions 2 and 3 differ only in TileDesc::adc_offset_lsb (absent in 2: read as 0); the
  // decoded Program is a version-3 one either way.
  const uint32_t file_version = r.u32("version");
  if (file_version < kOldestReadableProgramVersion || file_version > kProgramVersion) {
    throw InputError(fmt::format("{}: version {}, this cimsim reads versions {}..{} (recompile the model with this cimsim)",
                                 pfile, file_version, kOldestReadableProgramVersion, kProgramVersion));
  }
  p.version = kProgramVersion;
  p.arch_fingerprint = r.u64("arch fingerprint");

  Reader wr(weights_head, wfile);
  if (weights_head.size() < 8 || std::memcmp(weights_head.data(), kWeightsMagic, 8) != 0) {
    wr.fail_at(0, "bad magic, expected \"CIMSIMWT\" (not a cimsim weights.bin)");
  }
  for (int i = 0; i < 8; ++i) wr.u8("magic");
  uint32_t wversion = wr.u32("version");
  if (wversion != file_version) {
    throw InputError(fmt::format("{}: version {}, {} is version {} (recompile the model with this cimsim)", wfile,
                                 wversion, pfile, file_version));
  }
  size_t weights_next = kWeightsHeaderBytes;  // tiles are stored back to back, in order

  {
    Reader s = r.section(kSecModel);
    p.model_name = s.str("model name length");
    s.expect_done("section model");
  }
  {
    Reader s = r.section(kSecLayers);
    size_t n = s.count("layer count");
    for (size_t i = 0; i < n; ++i) p.layers.push_back(s.str("layer name length"));
    s.expect_done("section layers");
  }
  for (uint8_t id : {kSecInputs, kSecOutputs}) {
    Reader s = r.section(id);
    size_t n = s.count("tensor count");
    auto& list = id == kSecInputs ? p.inputs : p.outputs;
    for (size_t i = 0; i < n; ++i) list.push_back(read_io(s));
    s.expect_done(id == kSecInputs ? "section inputs" : "section outputs");
  }
  size_t n_cores = 0;
  {
    Reader s = r.section(kSecCores);
    size_t at = s.pos();
    uint64_t n = s.varint("core count");
    // Each core section takes at least 6 bytes (id, length, four counts).
    if (n > r.remaining() / 6) {
      s.fail_at(at, fmt::format("core count {} exceeds what the {} bytes left can hold", n,
                                r.remaining()));
    }
    n_cores = static_cast<size_t>(n);
    s.expect_done("section cores");
  }
  p.cores.reserve(n_cores);
  for (size_t ci = 0; ci < n_cores; ++ci) {
    Reader s = r.section(kSecCore);
    CoreProgram core;
    size_t n = s.count("instruction count");
    core.code.reserve(n);
    for (size_t i = 0; i < n; ++i) core.code.push_back(read_instruction(s));
    n = s.count("tile count");
    for (size_t i = 0; i < n; ++i) {
      TileDesc t;
      t.pe = s.s32("tile pe");
      t.crossbar = s.s32("tile crossbar");
      t.rows = s.s32("tile rows");
      t.cols = s.s32("tile cols");
      t.input_unsigned = s.boolean("tile unsigned");
      t.layer = s.s32("tile layer");
      t.adc_full_scale = s.f32("tile fullscale");
      if (file_version >= 3) t.adc_offset_lsb = s.f32("tile adc offset");
      t.weight_global_addr = s.svarint("tile weight_global_addr");
      size_t at = s.pos();
      uint64_t off = s.varint("weight offset");
      uint64_t len = s.varint("weight length");
      if (t.rows < 0 || t.cols < 0 || len != static_cast<uint64_t>(int64_t{t.rows} * t.cols)) {
        s.fail_at(at, fmt::format("tile {} of core {}: weight length {} != rows {} * cols {}", i, ci,
                                  len, t.rows, t.cols));
      }
      if (off != weights_next || len > weights_size - weights_next) {
        s.fail_at(at, fmt::format("tile {} of core {}: weights [{}, +{}) not at {} or beyond {} "
                                  "({} bytes)", i, ci, off, len, weights_next, wfile,
                                  weights_size));
      }
      t.weights.resize(static_cast<size_t>(len));
      weights.read(static_cast<size_t>(off), static_cast<size_t>(len),
                   reinterpret_cast<uint8_t*>(t.weights.data()));
      weights_next += static_cast<size_t>(len);
      core.tiles.push_back(std::move(t));
    }
    n = s.count("requant count");
    for (size_t i = 0; i < n; ++i) {
      RequantDesc q;
      size_t at = s.pos();
      uint8_t kind = s.u8("requant kind");
      if (kind > 1) s.fail_at(at, fmt::format("unknown requant kind {}", kind));
      q.kind = static_cast<RequantDesc::Kind>(kind);
      q.qmin = s.s32("qmin");
      q.qmax = s.s32("qmax");
      q.channels = s.s32("channels");
      q.bias = read_ints(s, "bias");
      q.multiplier = read_ints(s, "multiplier");
      q.shift = read_ints(s, "shift");
      q.mult_a = s.s32("mult_a");
      q.mult_b = s.s32("mult_b");
      q.add_shift = s.s32("add shift");
      q.a_unsigned = s.boolean("requant a_unsigned");
      q.b_unsigned = s.boolean("requant b_unsigned");
      core.requant.push_back(std::move(q));
    }
    n = s.count("lut count");
    for (size_t i = 0; i < n; ++i) {
      LutDesc l;
      l.in_unsigned = s.boolean("lut unsigned");
      l.table = read_ints(s, "lut table");
      core.luts.push_back(std::move(l));
    }
    s.expect_done(fmt::format("section core {}", ci).c_str());
    p.cores.push_back(std::move(core));
  }
  r.expect_done("the file (trailing bytes)");
  if (weights_next != weights_size) {
    wr.fail_at(weights_next, fmt::format("{} bytes after the last tile's weights",
                                         weights_size - weights_next));
  }
  validate(p, pfile);
  return p;
}

}  // namespace

namespace {

void write_file(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(fmt::format("{}: cannot open for writing", path));
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  f.close();
  if (!f) throw InputError(fmt::format("{}: write failed", path));
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec))
    throw InputError(fmt::format("{}: is a directory, expected a file", path));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(fmt::format("{}: cannot open", path));
  // One bulk read of a regular file's size (weights.bin is megabytes), then append anything
  // a file that grew since contains; a shrunken file just reads short. Anything else (a
  // pipe, a directory) is read as a stream.
  std::vector<uint8_t> v;
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  const uintmax_t size = regular ? std::filesystem::file_size(path, ec) : 0;
  if (regular && !ec && size > 0) {
    v.resize(static_cast<size_t>(size));
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(size));
    v.resize(static_cast<size_t>(f.gcount()));
  }
  if (f.bad()) throw InputError(fmt::format("{}: read failed", path));
  if (!f.eof()) {
    f.clear();
    try {
      v.insert(v.end(), std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    } catch (const std::ios_base::failure& e) {  // libstdc++ throws on e.g. a directory
      throw InputError(fmt::format("{}: read failed: {}", path, e.what()));
    }
    if (f.bad()) throw InputError(fmt::format("{}: read failed", path));
  }
  return v;
}

}  // namespace

void write_program_files(const Program& p, const std::string& dir) {
  std::vector<uint8_t> weights;
  std::vector<uint8_t> bin = encode_program(p, &weights);
  write_file(dir + "/program.bin", bin.data(), bin.size());
  write_file(dir + "/weights.bin", weights.data(), weights.size());
  std::error_code ec;
  std::filesystem::create_directories(dir + "/cores", ec);
  if (ec) throw InputError(fmt::format("{}/cores: cannot create: {}", dir, ec.message()));
  std::vector<std::vector<int64_t>> offsets = weight_offsets(p);
  for (size_t c = 0; c < p.cores.size(); ++c) {
    if (p.cores[c].code.empty()) continue;
    std::string text = disassemble_core(p.cores[c], static_cast<int>(c), p.layers, &offsets[c]);
    write_file(fmt::format("{}/cores/core_{:03d}.s", dir, c), text.data(), text.size());
  }
}

Program read_program_dir(const std::string& dir) {
  std::vector<uint8_t> bin = read_file(dir + "/program.bin");
  const std::string wpath = dir + "/weights.bin";
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(wpath, ec);
  const uintmax_t wsize = regular ? std::filesystem::file_size(wpath, ec) : 0;
  if (regular && !ec) {
    FileWeights weights(wpath, static_cast<size_t>(wsize));
    return decode_program_from(bin, weights, dir);
  }
  const std::vector<uint8_t> bytes = read_file(wpath);  // not a regular file: a stream
  MemoryWeights weights(bytes);
  return decode_program_from(bin, weights, dir);
}

}  // namespace cimsim
