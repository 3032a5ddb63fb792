// ISA tables (names, operand layouts), equality, and validation of a CoreProgram.
#include "platform/spec/isa.h"

#include <cmath>
#include <cstring>
#include <map>
#include <utility>
#include <string>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim {

namespace {

using K = OperandKind;
using R = ImmRole;

struct OpInfo {
  Op op;
  const char* name;
  std::vector<OperandSpec> layout;
};

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = {
      {Op::kLi, "li", {{K::kReg, 0, nullptr}, {K::kImm, 0, nullptr}}},
      {Op::kAddi, "addi", {{K::kReg, 0, nullptr}, {K::kReg, 1, nullptr}, {K::kImm, 0, nullptr}}},
      {Op::kAdd, "add", {{K::kReg, 0, nullptr}, {K::kReg, 1, nullptr}, {K::kReg, 2, nullptr}}},
      {Op::kBne, "bne", {{K::kReg, 1, nullptr}, {K::kReg, 2, nullptr}, {K::kTarget, 0, nullptr}}},
      {Op::kBlt, "blt", {{K::kReg, 1, nullptr}, {K::kReg, 2, nullptr}, {K::kTarget, 0, nullptr}}},
      {Op::kJmp, "jmp", {{K::kTarget, 0, nullptr}}},
      {Op::kHalt, "halt", {}},
      {Op::kCopy,
       "copy",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kImm, 0, "seg", R::kLength},
        {K::kImm, 1, "n_in", R::kLength},
        {K::kImm, 2, "s_in"},
        {K::kImm, 3, "d_in"},
        {K::kImm, 4, "n_out", R::kLength},
        {K::kImm, 5, "s_out"},
        {K::kImm, 6, "d_out"}}},
      {Op::kFill,
       "fill",
       {{K::kAddr, 0, nullptr}, {K::kImm, 0, "len", R::kLength}, {K::kImm, 1, "value", R::kByte}}},
      {Op::kRequant,
       "requant",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "qid", R::kQid}}},
      {Op::kAddq,
       "addq",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kAddr, 2, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "qid", R::kQid}}},
      {Op::kAdd32,
       "add32",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kAddr, 2, nullptr},
        {K::kImm, 0, "len", R::kLength}}},
      {Op::kMax,
       "max",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kAddr, 2, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "unsigned", R::kFlag}}},
      {Op::kSum32,
       "sum32",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "unsigned", R::kFlag}}},
      {Op::kLut,
       "lut",
       {{K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "lid", R::kLid}}},
      {Op::kMvm,
       "mvm",
       {{K::kTile, 0, nullptr},
        {K::kAddr, 0, nullptr},
        {K::kAddr, 1, nullptr},
        {K::kImm, 1, "acc", R::kFlag}}},
      {Op::kWload, "wload", {{K::kTile, 0, nullptr}}},
      {Op::kSend,
       "send",
       {{K::kAddr, 1, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "core", R::kCore},
        {K::kImm, 2, "tag", R::kLength}}},
      {Op::kRecv,
       "recv",
       {{K::kAddr, 0, nullptr},
        {K::kImm, 0, "len", R::kLength},
        {K::kImm, 1, "core", R::kCore},
        {K::kImm, 2, "tag", R::kLength}}},
      {Op::kLoad,
       "load",
       {{K::kAddr, 0, nullptr}, {K::kAddr, 2, nullptr}, {K::kImm, 0, "len", R::kLength}}},
      {Op::kStore,
       "store",
       {{K::kAddr, 2, nullptr}, {K::kAddr, 1, nullptr}, {K::kImm, 0, "len", R::kLength}}},
  };
  return table;
}

// Indexed by opcode byte: decoders and validate() look ops up once per instruction.
const OpInfo* find_op(Op op) {
  static const std::array<const OpInfo*, 256> by_code = [] {
    std::array<const OpInfo*, 256> a{};
    for (const OpInfo& info : op_table()) a[static_cast<uint8_t>(info.op)] = &info;
    return a;
  }();
  return by_code[static_cast<uint8_t>(op)];
}

uint8_t reg_field(const Instruction& in, int slot) {
  return slot == 0 ? in.rd : slot == 1 ? in.rs : in.rt;
}

bool is_pow2_table(size_t n) { return n >= 4 && n <= 256 && (n & (n - 1)) == 0; }

}  // namespace

const char* op_name(Op op) {
  const OpInfo* info = find_op(op);
  return info ? info->name : "unknown";
}

const std::vector<OperandSpec>& operand_layout(Op op) {
  static const std::vector<OperandSpec> empty;
  const OpInfo* info = find_op(op);
  return info ? info->layout : empty;
}

bool is_known_op(uint8_t code) { return find_op(static_cast<Op>(code)) != nullptr; }

bool op_from_name(const std::string& name, Op* op) {
  for (const OpInfo& info : op_table()) {
    if (name == info.name) {
      *op = info.op;
      return true;
    }
  }
  return false;
}

bool Instruction::operator==(const Instruction& o) const {
  return op == o.op && layer == o.layer && rd == o.rd && rs == o.rs && rt == o.rt &&
         addr == o.addr && imm == o.imm;
}

bool TileDesc::operator==(const TileDesc& o) const {
  // Bitwise float comparison: a round trip must reproduce the exact bits (NaN included).
  return pe == o.pe && crossbar == o.crossbar && rows == o.rows && cols == o.cols &&
         input_unsigned == o.input_unsigned && layer == o.layer &&
         std::memcmp(&adc_full_scale, &o.adc_full_scale, sizeof(float)) == 0 &&
         std::memcmp(&adc_offset_lsb, &o.adc_offset_lsb, sizeof(float)) == 0 &&
         weights == o.weights && weight_global_addr == o.weight_global_addr;
}

bool RequantDesc::operator==(const RequantDesc& o) const {
  return kind == o.kind && qmin == o.qmin && qmax == o.qmax && channels == o.channels &&
         bias == o.bias && multiplier == o.multiplier && shift == o.shift &&
         mult_a == o.mult_a && mult_b == o.mult_b && add_shift == o.add_shift &&
         a_unsigned == o.a_unsigned && b_unsigned == o.b_unsigned;
}

bool LutDesc::operator==(const LutDesc& o) const {
  return in_unsigned == o.in_unsigned && table == o.table;
}

bool CoreProgram::operator==(const CoreProgram& o) const {
  return code == o.code && tiles == o.tiles && requant == o.requant && luts == o.luts;
}

bool TensorIO::operator==(const TensorIO& o) const {
  return name == o.name && shape == o.shape &&
         std::memcmp(&scale, &o.scale, sizeof(float)) == 0 && is_unsigned == o.is_unsigned &&
         bits == o.bits && global_addr == o.global_addr && bytes_per_image == o.bytes_per_image &&
         host_softmax == o.host_softmax;
}

bool Program::operator==(const Program& o) const {
  return version == o.version && arch_fingerprint == o.arch_fingerprint &&
         model_name == o.model_name && layers == o.layers && inputs == o.inputs &&
         outputs == o.outputs && cores == o.cores;
}

void validate(const CoreProgram& core, int core_index, int num_cores, const std::string& where) {
  const int64_t n_code = static_cast<int64_t>(core.code.size());
  for (size_t i = 0; i < core.code.size(); ++i) {
    const Instruction& in = core.code[i];
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}: core {}, instruction {} ({}): {}", where, core_index, i,
                                   op_name(in.op), what));
    };
    const OpInfo* info = find_op(in.op);
    if (!info) fail(fmt::format("unknown opcode {}", static_cast<int>(in.op)));
    bool reg_used[3] = {false, false, false};
    bool addr_used[3] = {false, false, false};
    bool imm_used[8] = {};
    for (const OperandSpec& spec : info->layout) {
      switch (spec.kind) {
        case K::kReg: {
          reg_used[spec.slot] = true;
          int r = reg_field(in, spec.slot);
          if (r >= kNumRegisters) fail(fmt::format("register r{} does not exist (r0..r15)", r));
          break;
        }
        case K::kAddr: {
          addr_used[spec.slot] = true;
          int b = in.addr[spec.slot].base;
          if (b >= kNumRegisters) fail(fmt::format("base register r{} does not exist (r0..r15)", b));
          break;
        }
        case K::kTarget: {
          imm_used[spec.slot] = true;
          int32_t t = in.imm[spec.slot];
          if (t < 0 || t >= n_code) {
            fail(fmt::format("branch target {} outside the code (0..{})", t, n_code - 1));
          }
          break;
        }
        case K::kTile: {
          imm_used[spec.slot] = true;
          int32_t t = in.imm[spec.slot];
          if (t < 0 || static_cast<size_t>(t) >= core.tiles.size()) {
            fail(fmt::format("tile {} out of range (core has {} tiles)", t, core.tiles.size()));
          }
          break;
        }
        case K::kImm: {
          imm_used[spec.slot] = true;
          int32_t v = in.imm[spec.slot];
          const char* name = spec.name ? spec.name : "imm";
          switch (spec.role) {
            case R::kAny:
              break;
            case R::kLength:
              if (v < 0) fail(fmt::format("{}={} must be >= 0", name, v));
              break;
            case R::kFlag:
              if (v != 0 && v != 1) fail(fmt::format("{}={} must be 0 or 1", name, v));
              break;
            case R::kByte:
              if (v < -128 || v > 255) fail(fmt::format("{}={} must be in -128..255", name, v));
              break;
            case R::kQid:
              if (v < 0 || static_cast<size_t>(v) >= core.requant.size()) {
                fail(fmt::format("qid {} out of range (core has {} requant sets)", v,
                                 core.requant.size()));
              }
              break;
            case R::kLid:
              if (v < 0 || static_cast<size_t>(v) >= core.luts.size()) {
                fail(fmt::format("lid {} out of range (core has {} LUTs)", v, core.luts.size()));
              }
              break;
            case R::kCore:
              if (v < 0 || v >= num_cores) {
                fail(fmt::format("core {} out of range (chip has {} cores)", v, num_cores));
              }
              break;
          }
          break;
        }
      }
    }
    if (in.op == Op::kWload && core.tiles[static_cast<size_t>(in.imm[0])].weight_global_addr < 0) {
      fail(fmt::format("tile {} is resident (weight_global_addr -1); wload needs a reloadable tile",
                       in.imm[0]));
    }
    if (in.op == Op::kRequant || in.op == Op::kAddq) {
      auto want = in.op == Op::kRequant ? RequantDesc::Kind::kPerChannel : RequantDesc::Kind::kAdd;
      if (core.requant[in.imm[1]].kind != want) {
        fail(fmt::format("qid {} is a kind={} set, {} needs kind={}", in.imm[1],
                         want == RequantDesc::Kind::kAdd ? "per_channel" : "add", op_name(in.op),
                         want == RequantDesc::Kind::kAdd ? "add" : "per_channel"));
      }
    }
    // Unused fields must be zero so that == and both encodings round-trip exactly.
    const uint8_t regs[3] = {in.rd, in.rs, in.rt};
    for (int s = 0; s < 3; ++s) {
      if (!reg_used[s] && regs[s] != 0) fail("unused register field is not zero");
      if (!addr_used[s] && !(in.addr[s] == Addr{})) fail("unused address field is not zero");
    }
    for (int s = 0; s < 8; ++s) {
      if (!imm_used[s] && in.imm[s] != 0) fail("unused immediate field is not zero");
    }
  }
  for (size_t t = 0; t < core.tiles.size(); ++t) {
    const TileDesc& tile = core.tiles[t];
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}: core {}, tile {}: {}", where, core_index, t, what));
    };
    if (tile.pe < 0 || tile.crossbar < 0) fail("pe and crossbar must be >= 0");
    if (tile.rows < 0 || tile.cols < 0) fail("rows and cols must be >= 0");
    if (tile.layer < 0 || tile.layer > 65535) fail("layer must be in 0..65535");
    if (!std::isfinite(tile.adc_full_scale) || tile.adc_full_scale < 0) {
      fail("fullscale must be finite and >= 0");
    }
    if (!(std::fabs(tile.adc_offset_lsb) <= 65536.0f)) fail("adc offset must be finite, -65536..65536 LSB");
    int64_t expect = int64_t{tile.rows} * tile.cols;
    if (static_cast<int64_t>(tile.weights.size()) != expect) {
      fail(fmt::format("has {} weights, rows * cols = {}", tile.weights.size(), expect));
    }
    if (tile.weight_global_addr < -1) {
      fail(fmt::format("weight_global_addr {} must be -1 (resident) or >= 0", tile.weight_global_addr));
    }
  }
  // A crossbar holds one tile at a time: at most one of them can be programmed before the run.
  std::map<std::pair<int32_t, int32_t>, size_t> resident;
  for (size_t t = 0; t < core.tiles.size(); ++t) {
    const TileDesc& tile = core.tiles[t];
    if (tile.weight_global_addr >= 0) continue;
    auto [it, fresh] = resident.insert({{tile.pe, tile.crossbar}, t});
    if (!fresh) {
      throw InputError(fmt::format(
          "{}: core {}, tile {}: pe {} crossbar {} already holds resident tile {} (a crossbar "
          "holds at most one resident tile; make the others reloadable)",
          where, core_index, t, tile.pe, tile.crossbar, it->second));
    }
  }
  for (size_t q = 0; q < core.requant.size(); ++q) {
    const RequantDesc& r = core.requant[q];
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}: core {}, requant {}: {}", where, core_index, q, what));
    };
    if (r.qmin > r.qmax) fail(fmt::format("qmin {} > qmax {}", r.qmin, r.qmax));
    if (r.kind == RequantDesc::Kind::kPerChannel) {
      if (r.channels < 1) fail("channels must be >= 1");
      size_t c = static_cast<size_t>(r.channels);
      if (r.bias.size() != c || r.multiplier.size() != c || r.shift.size() != c) {
        fail(fmt::format("bias/mult/shift need {} entries each", c));
      }
      for (int32_t s : r.shift) {
        if (s < 0 || s > 62) fail(fmt::format("shift {} outside 0..62", s));
      }
      if (r.mult_a != 0 || r.mult_b != 0 || r.add_shift != 0 || r.a_unsigned || r.b_unsigned) {
        fail("per_channel set has nonzero add fields");
      }
    } else if (r.kind == RequantDesc::Kind::kAdd) {
      if (r.add_shift < 0 || r.add_shift > 62) fail(fmt::format("shift {} outside 0..62", r.add_shift));
      if (r.channels != 0 || !r.bias.empty() || !r.multiplier.empty() || !r.shift.empty()) {
        fail("add set has per-channel fields");
      }
    } else {
      fail("unknown kind");
    }
  }
  for (size_t l = 0; l < core.luts.size(); ++l) {
    if (!is_pow2_table(core.luts[l].table.size())) {
      throw InputError(fmt::format("{}: core {}, lut {}: table has {} entries, need 2^k with 4..256",
                                   where, core_index, l, core.luts[l].table.size()));
    }
  }
}

void validate(const Program& program, const std::string& where) {
  const int num_cores = static_cast<int>(program.cores.size());
  for (int c = 0; c < num_cores; ++c) {
    const CoreProgram& core = program.cores[c];
    validate(core, c, num_cores, where);
    if (program.layers.empty()) continue;
    for (size_t i = 0; i < core.code.size(); ++i) {
      if (core.code[i].layer >= program.layers.size()) {
        throw InputError(fmt::format("{}: core {}, instruction {} ({}): layer {} out of range ({} layers)",
                                     where, c, i, op_name(core.code[i].op), core.code[i].layer,
                                     program.layers.size()));
      }
    }
    for (size_t t = 0; t < core.tiles.size(); ++t) {
      if (static_cast<size_t>(core.tiles[t].layer) >= program.layers.size()) {
        throw InputError(fmt::format("{}: core {}, tile {}: layer {} out of range ({} layers)", where,
                                     c, t, core.tiles[t].layer, program.layers.size()));
      }
    }
  }
  auto check_io = [&](const std::vector<TensorIO>& ios, const char* kind) {
    for (const TensorIO& io : ios) {
      auto fail = [&](const std::string& what) {
        throw InputError(fmt::format("{}: {} '{}': {}", where, kind, io.name, what));
      };
      for (int64_t d : io.shape) {
        if (d <= 0) fail("shape dimensions must be > 0");
      }
      if (!std::isfinite(io.scale) || io.scale <= 0) fail("scale must be finite and > 0");
      if (io.bits < 1 || io.bits > 32) fail("bits must be in 1..32");
      if (io.global_addr < 0 || io.bytes_per_image < 0) fail("global_addr and bytes_per_image must be >= 0");
    }
  };
  check_io(program.inputs, "input");
  check_io(program.outputs, "output");
}

}  // namespace cimsim
