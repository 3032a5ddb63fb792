// Random valid CorePrograms / Programs for round-trip tests and fuzz seed corpora.
// Every field an op uses gets a random in-range value; unused fields stay zero, so the
// result passes validate().
#pragma once

#include <random>
#include <string>

#include "platform/spec/isa.h"

namespace cimsim::testing {

inline int32_t rand_i32(std::mt19937& g, int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(g);
}

// Mixes small values with the int32 extremes so varint and text edge cases are covered.
inline int32_t rand_any(std::mt19937& g) {
  switch (rand_i32(g, 0, 5)) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return rand_i32(g, INT32_MIN, INT32_MAX);
    default: return rand_i32(g, -300, 300);
  }
}

inline CoreProgram random_core(std::mt19937& g, int num_cores, int num_layers,
                               int max_code = 40) {
  CoreProgram c;
  int n_tiles = rand_i32(g, 0, 3), n_req = rand_i32(g, 0, 3), n_lut = rand_i32(g, 0, 2);
  for (int t = 0; t < n_tiles; ++t) {
    TileDesc d;
    d.pe = rand_i32(g, 0, 7);
    d.crossbar = rand_i32(g, 0, 7);
    d.rows = rand_i32(g, 0, 9);
    d.cols = rand_i32(g, 0, 7);
    d.input_unsigned = rand_i32(g, 0, 1);
    d.layer = rand_i32(g, 0, num_layers - 1);
    d.adc_full_scale = rand_i32(g, 0, 1) ? 0.0f : std::uniform_real_distribution<float>(0, 1e6f)(g);
    d.adc_offset_lsb = rand_i32(g, 0, 1) ? 0.0f : std::uniform_real_distribution<float>(-4, 4)(g);
    for (int i = 0; i < d.rows * d.cols; ++i) d.weights.push_back(static_cast<int8_t>(rand_i32(g, -127, 127)));
    // Reloadable tiles may share a crossbar; a second resident tile on one crossbar may not.
    bool shared = false;
    for (const TileDesc& o : c.tiles) {
      shared = shared || (o.weight_global_addr < 0 && o.pe == d.pe && o.crossbar == d.crossbar);
    }
    if (shared || rand_i32(g, 0, 1)) d.weight_global_addr = rand_i32(g, 0, INT32_MAX);
    c.tiles.push_back(d);
  }
  for (int q = 0; q < n_req; ++q) {
    RequantDesc r;
    r.qmin = rand_i32(g, -128, 0);
    r.qmax = rand_i32(g, 1, 255);
    if (rand_i32(g, 0, 1)) {
      r.kind = RequantDesc::Kind::kAdd;
      r.mult_a = rand_any(g);
      r.mult_b = rand_any(g);
      r.add_shift = rand_i32(g, 0, 62);
      r.a_unsigned = rand_i32(g, 0, 1);
      r.b_unsigned = rand_i32(g, 0, 1);
    } else {
      r.channels = rand_i32(g, 1, 5);
      for (int ch = 0; ch < r.channels; ++ch) {
        r.bias.push_back(rand_any(g));
        r.multiplier.push_back(rand_i32(g, 1 << 30, INT32_MAX));
        r.shift.push_back(rand_i32(g, 0, 62));
      }
    }
    c.requant.push_back(r);
  }
  for (int l = 0; l < n_lut; ++l) {
    LutDesc d;
    d.in_unsigned = rand_i32(g, 0, 1);
    int n = 1 << rand_i32(g, 2, 8);
    for (int i = 0; i < n; ++i) d.table.push_back(rand_i32(g, -128, 255));
    c.luts.push_back(d);
  }
  static const Op ops[] = {Op::kLi,   Op::kAddi,    Op::kAdd,  Op::kBne,   Op::kBlt,
                           Op::kJmp,  Op::kHalt,    Op::kCopy, Op::kFill,  Op::kRequant,
                           Op::kAddq, Op::kAdd32,   Op::kMax,  Op::kSum32, Op::kLut,
                           Op::kMvm,  Op::kSend,    Op::kRecv, Op::kLoad,  Op::kStore,
                           Op::kWload};
  std::vector<int32_t> reloadable;
  for (size_t t = 0; t < c.tiles.size(); ++t) {
    if (c.tiles[t].weight_global_addr >= 0) reloadable.push_back(static_cast<int32_t>(t));
  }
  std::vector<int32_t> per_channel_sets, add_sets;
  for (size_t q = 0; q < c.requant.size(); ++q) {
    (c.requant[q].kind == RequantDesc::Kind::kAdd ? add_sets : per_channel_sets)
        .push_back(static_cast<int32_t>(q));
  }
  int n_code = rand_i32(g, 1, max_code);
  for (int i = 0; i < n_code; ++i) {
    Instruction in;
    do {
      in.op = ops[rand_i32(g, 0, sizeof(ops) / sizeof(ops[0]) - 1)];
    } while ((in.op == Op::kMvm && c.tiles.empty()) ||
             (in.op == Op::kWload && reloadable.empty()) ||
             (in.op == Op::kRequant && per_channel_sets.empty()) ||
             (in.op == Op::kAddq && add_sets.empty()) ||
             (in.op == Op::kLut && c.luts.empty()));
    in.layer = static_cast<uint16_t>(rand_i32(g, 0, 3) == 0 ? rand_i32(g, 0, num_layers - 1) : 0);
    for (const OperandSpec& s : operand_layout(in.op)) {
      switch (s.kind) {
        case OperandKind::kReg:
          (s.slot == 0 ? in.rd : s.slot == 1 ? in.rs : in.rt) = static_cast<uint8_t>(rand_i32(g, 0, 15));
          break;
        case OperandKind::kAddr:
          in.addr[s.slot] = Addr{static_cast<uint8_t>(rand_i32(g, 0, 15)), rand_any(g)};
          break;
        case OperandKind::kTarget:
          in.imm[s.slot] = rand_i32(g, 0, n_code - 1);
          break;
        case OperandKind::kTile:
          in.imm[s.slot] = in.op == Op::kWload
                               ? reloadable[static_cast<size_t>(rand_i32(g, 0, static_cast<int32_t>(reloadable.size()) - 1))]
                               : rand_i32(g, 0, static_cast<int32_t>(c.tiles.size()) - 1);
          break;
        case OperandKind::kImm:
          switch (s.role) {
            case ImmRole::kAny: in.imm[s.slot] = rand_any(g); break;
            case ImmRole::kLength: in.imm[s.slot] = rand_i32(g, 0, 5000); break;
            case ImmRole::kFlag: in.imm[s.slot] = rand_i32(g, 0, 1); break;
            case ImmRole::kByte: in.imm[s.slot] = rand_i32(g, -128, 255); break;
            case ImmRole::kQid: {
              const std::vector<int32_t>& sets = in.op == Op::kAddq ? add_sets : per_channel_sets;
              in.imm[s.slot] = sets[rand_i32(g, 0, static_cast<int32_t>(sets.size()) - 1)];
              break;
            }
            case ImmRole::kLid: in.imm[s.slot] = rand_i32(g, 0, static_cast<int32_t>(c.luts.size()) - 1); break;
            case ImmRole::kCore: in.imm[s.slot] = rand_i32(g, 0, num_cores - 1); break;
          }
          break;
      }
    }
    c.code.push_back(in);
  }
  return c;
}

inline Program random_program(std::mt19937& g, int num_cores) {
  Program p;
  p.arch_fingerprint = (static_cast<uint64_t>(g()) << 32) | g();
  p.model_name = "model_" + std::to_string(g() % 1000);
  int n_layers = rand_i32(g, 1, 5);
  for (int l = 0; l < n_layers; ++l) p.layers.push_back("layer" + std::to_string(l));
  TensorIO in;
  in.name = "input";
  in.shape = {3, 8, 8};
  in.scale = 0.0125f;
  in.bytes_per_image = 192;
  p.inputs.push_back(in);
  TensorIO out;
  out.name = "logits";
  out.shape = {10};
  out.scale = 0.5f;
  out.is_unsigned = true;
  out.global_addr = 4096;
  out.bytes_per_image = 10;
  out.host_softmax = true;
  p.outputs.push_back(out);
  for (int c = 0; c < num_cores; ++c) p.cores.push_back(random_core(g, num_cores, n_layers, 12));
  return p;
}

}  // namespace cimsim::testing
