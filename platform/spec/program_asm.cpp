// Assembler and disassembler for one core's stream and tables (syntax: docs/isa.md).
#include "platform/spec/program_asm.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim {

namespace {

uint8_t& reg_ref(Instruction& in, int slot) { return slot == 0 ? in.rd : slot == 1 ? in.rs : in.rt; }
uint8_t reg_val(const Instruction& in, int slot) {
  return slot == 0 ? in.rd : slot == 1 ? in.rs : in.rt;
}

std::string format_addr(const Addr& a) {
  if (a.imm < 0) return fmt::format("[r{}-{}]", a.base, -static_cast<int64_t>(a.imm));
  return fmt::format("[r{}+{}]", a.base, a.imm);
}

template <typename T>
std::string format_list(const std::vector<T>& v) {
  return fmt::format("[{}]", fmt::join(v, ","));
}

const char* requant_kind_name(RequantDesc::Kind k) {
  return k == RequantDesc::Kind::kAdd ? "add" : "per_channel";
}

}  // namespace

std::string disassemble_core(const CoreProgram& core, int core_index,
                             const std::vector<std::string>& layer_names,
                             const std::vector<int64_t>* weight_offsets) {
  std::string out = fmt::format("# core {}: {} instructions, {} tiles, {} requant sets, {} LUTs\n",
                                core_index, core.code.size(), core.tiles.size(),
                                core.requant.size(), core.luts.size());
  for (size_t t = 0; t < core.tiles.size(); ++t) {
    const TileDesc& d = core.tiles[t];
    out += fmt::format(".tile {} pe={} xbar={} rows={} cols={} unsigned={} layer={} fullscale={} offset={}",
                       t, d.pe, d.crossbar, d.rows, d.cols, d.input_unsigned ? 1 : 0, d.layer,
                       d.adc_full_scale, d.adc_offset_lsb);
    if (d.weight_global_addr >= 0) out += fmt::format(" gaddr={}", d.weight_global_addr);
    if (weight_offsets && t < weight_offsets->size() && (*weight_offsets)[t] >= 0) {
      out += fmt::format(" weights=@{}", (*weight_offsets)[t]);
    }
    out += '\n';
  }
  for (size_t q = 0; q < core.requant.size(); ++q) {
    const RequantDesc& r = core.requant[q];
    out += fmt::format(".requant {} kind={} qmin={} qmax={}", q, requant_kind_name(r.kind), r.qmin,
                       r.qmax);
    if (r.kind == RequantDesc::Kind::kAdd) {
      out += fmt::format(" mult_a={} mult_b={} shift={} a_unsigned={} b_unsigned={}\n", r.mult_a,
                         r.mult_b, r.add_shift, r.a_unsigned ? 1 : 0, r.b_unsigned ? 1 : 0);
    } else {
      out += fmt::format(" channels={} bias={} mult={} shift={}\n", r.channels, format_list(r.bias),
                         format_list(r.multiplier), format_list(r.shift));
    }
  }
  for (size_t l = 0; l < core.luts.size(); ++l) {
    out += fmt::format(".lut {} unsigned={} table={}\n", l, core.luts[l].in_unsigned ? 1 : 0,
                       format_list(core.luts[l].table));
  }

  const int64_t n = static_cast<int64_t>(core.code.size());
  std::set<int64_t> targets;
  for (const Instruction& in : core.code) {
    for (const OperandSpec& s : operand_layout(in.op)) {
      if (s.kind == OperandKind::kTarget && in.imm[s.slot] >= 0 && in.imm[s.slot] <= n) {
        targets.insert(in.imm[s.slot]);
      }
    }
  }
  int layer = 0;
  for (int64_t i = 0; i <= n; ++i) {
    if (i < n && core.code[i].layer != layer) {
      layer = core.code[i].layer;
      out += fmt::format(".layer {}", layer);
      if (static_cast<size_t>(layer) < layer_names.size()) {
        std::string name = layer_names[layer];
        for (char& ch : name) {
          if (ch == '\n' || ch == '\r') ch = ' ';  // a comment must stay on its line
        }
        out += fmt::format("  # {}", name);
      }
      out += '\n';
    }
    if (targets.count(i)) out += fmt::format("L{}:\n", i);
    if (i == n) break;
    const Instruction& in = core.code[i];
    out += fmt::format("  {}", op_name(in.op));
    bool first = true;
    for (const OperandSpec& s : operand_layout(in.op)) {
      out += first ? " " : ", ";
      first = false;
      switch (s.kind) {
        case OperandKind::kReg:
          out += fmt::format("r{}", reg_val(in, s.slot));
          break;
        case OperandKind::kAddr:
          out += format_addr(in.addr[s.slot]);
          break;
        case OperandKind::kTile:
          out += fmt::format("t{}", in.imm[s.slot]);
          break;
        case OperandKind::kTarget: {
          int32_t t = in.imm[s.slot];
          out += (t >= 0 && t <= n) ? fmt::format("L{}", t) : fmt::format("@{}", t);
          break;
        }
        case OperandKind::kImm:
          if (s.name) out += fmt::format("{}=", s.name);
          out += fmt::format("{}", in.imm[s.slot]);
          break;
      }
    }
    out += '\n';
  }
  return out;
}

namespace {

// A cursor over one line; every error names FILE:LINE:COL (1-based, bytes).
class LineParser {
 public:
  LineParser(const std::string& file, int line_no, const std::string& line)
      : file_(file), line_no_(line_no), s_(line) {}

  [[noreturn]] void fail_at(size_t pos, const std::string& expected) const {
    throw InputError(fmt::format("{}:{}:{}: expected {}, found {}", file_, line_no_, pos + 1,
                                 expected, found(pos)));
  }
  [[noreturn]] void fail(const std::string& expected) const { fail_at(p_, expected); }
  [[noreturn]] void error_at(size_t pos, const std::string& what) const {
    throw InputError(fmt::format("{}:{}:{}: {}", file_, line_no_, pos + 1, what));
  }

  size_t pos() const { return p_; }
  void skip_ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\r')) ++p_;
  }
  bool at_end() {
    skip_ws();
    return p_ >= s_.size();
  }
  void expect_end() {
    if (!at_end()) fail("end of line");
  }
  bool peek(char c) {
    skip_ws();
    return p_ < s_.size() && s_[p_] == c;
  }
  void expect(char c, const char* what) {
    if (!peek(c)) fail(what);
    ++p_;
  }
  // [A-Za-z_.][A-Za-z0-9_.]*; empty when none.
  std::string ident() {
    skip_ws();
    size_t b = p_;
    if (p_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[p_])) || s_[p_] == '_' ||
                           s_[p_] == '.')) {
      ++p_;
      while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) ||
                                s_[p_] == '_' || s_[p_] == '.')) {
        ++p_;
      }
    }
    return s_.substr(b, p_ - b);
  }
  // Decimal integer with optional sign, range-checked.
  int64_t integer(int64_t lo, int64_t hi, const std::string& what) {
    skip_ws();
    size_t b = p_;
    bool neg = false;
    if (p_ < s_.size() && (s_[p_] == '-' || s_[p_] == '+')) neg = s_[p_++] == '-';
    if (p_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[p_]))) fail_at(b, what);
    int64_t v = 0;
    bool overflow = false;
    while (p_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p_]))) {
      if (v > (int64_t{1} << 40)) overflow = true;
      else v = v * 10 + (s_[p_] - '0');
      ++p_;
    }
    if (neg) v = -v;
    if (overflow || v < lo || v > hi) {
      error_at(b, fmt::format("{} out of range {}..{}", what, lo, hi));
    }
    return v;
  }
  int32_t int32(const std::string& what) {
    return static_cast<int32_t>(integer(std::numeric_limits<int32_t>::min(),
                                        std::numeric_limits<int32_t>::max(), what));
  }
  // `key=` exactly.
  void key(const char* name) {
    skip_ws();
    size_t b = p_;
    std::string k = ident();
    if (k != name || p_ >= s_.size() || s_[p_] != '=') fail_at(b, fmt::format("'{}='", name));
    ++p_;
  }
  int register_no() {
    skip_ws();
    size_t b = p_;
    if (p_ < s_.size() && s_[p_] == 'r') {
      ++p_;
      if (p_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p_]))) {
        int v = 0;
        size_t digits = 0;
        while (p_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p_])) && digits < 3) {
          v = v * 10 + (s_[p_++] - '0');
          ++digits;
        }
        bool more = p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '_');
        if (v < kNumRegisters && !more) return v;
      }
    }
    fail_at(b, "register r0..r15");
  }
  Addr address() {
    Addr a;
    expect('[', "'[' (address [rB+imm])");
    a.base = static_cast<uint8_t>(register_no());
    if (peek('+')) {
      ++p_;
      a.imm = int32("address offset");
    } else if (peek('-')) {
      size_t b = p_;
      ++p_;
      if (peek('-') || peek('+')) fail("address offset digits");
      int64_t v = -integer(0, int64_t{1} << 31, "address offset");
      if (v < std::numeric_limits<int32_t>::min()) error_at(b, "address offset out of int32 range");
      a.imm = static_cast<int32_t>(v);
    }
    expect(']', "']'");
    return a;
  }
  float real(const std::string& what) {
    skip_ws();
    size_t b = p_;
    while (p_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[p_])) && s_[p_] != ',') ++p_;
    std::string tok = s_.substr(b, p_ - b);
    if (tok.empty()) fail_at(b, what);
    errno = 0;
    char* end = nullptr;
    float v = std::strtof(tok.c_str(), &end);
    if (end != tok.c_str() + tok.size() || !std::isfinite(v)) fail_at(b, what);
    return v;
  }
  std::vector<int32_t> int_list(const std::string& what) {
    std::vector<int32_t> v;
    expect('[', "'[' (list)");
    if (peek(']')) {
      ++p_;
      return v;
    }
    for (;;) {
      v.push_back(int32(what));
      if (peek(']')) {
        ++p_;
        return v;
      }
      expect(',', "',' or ']'");
    }
  }

 private:
  std::string found(size_t pos) const {
    if (pos >= s_.size()) return "end of line";
    size_t e = pos;
    while (e < s_.size() && e - pos < 20 && !std::isspace(static_cast<unsigned char>(s_[e])) &&
           (e == pos || (s_[e] != ',' && s_[e] != ']' && s_[e] != '['))) {
      ++e;
    }
    std::string tok = s_.substr(pos, e - pos);
    std::string shown;
    for (char c : tok) {
      unsigned char u = static_cast<unsigned char>(c);
      shown += (u >= 32 && u < 127) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return fmt::format("'{}'", shown);
  }

  const std::string& file_;
  int line_no_;
  const std::string& s_;
  size_t p_ = 0;
};

struct LabelUse {
  size_t instr;
  int slot;
  std::string name;
  int line;
  size_t col;
};

}  // namespace

CoreProgram assemble_core(const std::string& text, const std::string& filename,
                          std::vector<int64_t>* weight_offsets) {
  CoreProgram core;
  std::vector<int64_t> offsets;
  std::map<std::string, int64_t> labels;
  std::vector<LabelUse> uses;
  int layer = 0;
  size_t start = 0;
  int line_no = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    ++line_no;
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    LineParser lp(filename, line_no, line);
    if (lp.at_end()) continue;

    size_t word_pos = lp.pos();
    std::string word = lp.ident();
    if (word.empty()) lp.fail("instruction, directive or label");
    if (word[0] != '.' && lp.peek(':')) {
      if (labels.count(word)) lp.error_at(word_pos, fmt::format("label '{}' defined twice", word));
      labels[word] = static_cast<int64_t>(core.code.size());
      lp.expect(':', "':'");
      if (lp.at_end()) continue;
      word_pos = lp.pos();
      word = lp.ident();
      if (word.empty()) lp.fail("instruction or directive");
    }

    auto table_index = [&](size_t expected, const char* what) {
      lp.skip_ws();
      size_t b = lp.pos();
      int64_t idx = lp.integer(0, std::numeric_limits<int32_t>::max(), fmt::format("{} index", what));
      if (static_cast<size_t>(idx) != expected) {
        lp.fail_at(b, fmt::format("{} index {} (tables are listed in order)", what, expected));
      }
    };
    auto flag = [&](const char* name) {
      lp.key(name);
      return lp.integer(0, 1, name) == 1;
    };

    if (word == ".layer") {
      layer = static_cast<int>(lp.integer(0, 65535, "layer index"));
    } else if (word == ".tile") {
      table_index(core.tiles.size(), "tile");
      TileDesc t;
      lp.key("pe");
      t.pe = lp.int32("pe");
      lp.key("xbar");
      t.crossbar = lp.int32("xbar");
      lp.key("rows");
      t.rows = lp.int32("rows");
      lp.key("cols");
      t.cols = lp.int32("cols");
      t.input_unsigned = flag("unsigned");
      lp.key("layer");
      t.layer = lp.int32("layer");
      lp.key("fullscale");
      t.adc_full_scale = lp.real("finite number");
      // Version-2 text has no offset (read as 0); the disassembler always prints it.
      if (lp.peek('o')) {
        lp.key("offset");
        t.adc_offset_lsb = lp.real("finite number");
      }
      if (lp.peek('g')) {
        lp.key("gaddr");
        t.weight_global_addr = lp.integer(0, std::numeric_limits<int64_t>::max() / 2, "global weight address");
      }
      int64_t off = -1;
      if (!lp.at_end()) {
        lp.key("weights");
        lp.expect('@', "'@' (weight offset)");
        off = lp.integer(0, std::numeric_limits<int64_t>::max() / 2, "weight offset");
      }
      core.tiles.push_back(std::move(t));
      offsets.push_back(off);
    } else if (word == ".requant") {
      table_index(core.requant.size(), "requant");
      RequantDesc r;
      lp.key("kind");
      size_t kb = lp.pos();
      std::string kind = lp.ident();
      lp.key("qmin");
      r.qmin = lp.int32("qmin");
      lp.key("qmax");
      r.qmax = lp.int32("qmax");
      if (kind == "per_channel") {
        r.kind = RequantDesc::Kind::kPerChannel;
        lp.key("channels");
        r.channels = lp.int32("channels");
        lp.key("bias");
        r.bias = lp.int_list("bias value");
        lp.key("mult");
        r.multiplier = lp.int_list("multiplier");
        lp.key("shift");
        r.shift = lp.int_list("shift");
      } else if (kind == "add") {
        r.kind = RequantDesc::Kind::kAdd;
        lp.key("mult_a");
        r.mult_a = lp.int32("mult_a");
        lp.key("mult_b");
        r.mult_b = lp.int32("mult_b");
        lp.key("shift");
        r.add_shift = lp.int32("shift");
        r.a_unsigned = flag("a_unsigned");
        r.b_unsigned = flag("b_unsigned");
      } else {
        lp.fail_at(kb, "'per_channel' or 'add'");
      }
      core.requant.push_back(std::move(r));
    } else if (word == ".lut") {
      table_index(core.luts.size(), "lut");
      LutDesc l;
      l.in_unsigned = flag("unsigned");
      lp.key("table");
      l.table = lp.int_list("table value");
      core.luts.push_back(std::move(l));
    } else if (word[0] == '.') {
      lp.fail_at(word_pos, "directive .layer, .tile, .requant or .lut");
    } else {
      Op op;
      if (!op_from_name(word, &op)) lp.fail_at(word_pos, "instruction mnemonic");
      Instruction in;
      in.op = op;
      in.layer = static_cast<uint16_t>(layer);
      bool first = true;
      for (const OperandSpec& s : operand_layout(op)) {
        if (!first) lp.expect(',', "','");
        first = false;
        switch (s.kind) {
          case OperandKind::kReg:
            reg_ref(in, s.slot) = static_cast<uint8_t>(lp.register_no());
            break;
          case OperandKind::kAddr:
            in.addr[s.slot] = lp.address();
            break;
          case OperandKind::kTile: {
            lp.skip_ws();
            if (!lp.peek('t')) lp.fail("tile tN");
            lp.expect('t', "tile tN");
            in.imm[s.slot] = static_cast<int32_t>(
                lp.integer(0, std::numeric_limits<int32_t>::max(), "tile index"));
            break;
          }
          case OperandKind::kTarget: {
            if (lp.peek('@')) {
              lp.expect('@', "'@'");
              in.imm[s.slot] = lp.int32("branch target index");
            } else {
              lp.skip_ws();
              size_t b = lp.pos();
              std::string name = lp.ident();
              if (name.empty() || name[0] == '.') lp.fail_at(b, "label");
              uses.push_back({core.code.size(), s.slot, name, line_no, b});
            }
            break;
          }
          case OperandKind::kImm:
          {
            if (s.name) lp.key(s.name);
            const char* what = s.name ? s.name : "immediate";
            switch (s.role) {
              case ImmRole::kLength:
              case ImmRole::kQid:
              case ImmRole::kLid:
              case ImmRole::kCore:
                in.imm[s.slot] = static_cast<int32_t>(
                    lp.integer(0, std::numeric_limits<int32_t>::max(), what));
                break;
              case ImmRole::kFlag:
                in.imm[s.slot] = static_cast<int32_t>(lp.integer(0, 1, what));
                break;
              case ImmRole::kByte:
                in.imm[s.slot] = static_cast<int32_t>(lp.integer(-128, 255, what));
                break;
              case ImmRole::kAny:
                in.imm[s.slot] = lp.int32(what);
                break;
            }
          }
            break;
        }
      }
      lp.expect_end();
      core.code.push_back(in);
      continue;
    }
    lp.expect_end();
  }
  for (const LabelUse& u : uses) {
    auto it = labels.find(u.name);
    if (it == labels.end()) {
      throw InputError(fmt::format("{}:{}:{}: undefined label '{}'", filename, u.line, u.col + 1,
                                   u.name));
    }
    if (it->second > std::numeric_limits<int32_t>::max()) {
      throw InputError(fmt::format("{}:{}:{}: label '{}' beyond int32 range", filename, u.line,
                                   u.col + 1, u.name));
    }
    core.code[u.instr].imm[u.slot] = static_cast<int32_t>(it->second);
  }
  if (weight_offsets) *weight_offsets = std::move(offsets);
  return core;
}

}  // namespace cimsim
