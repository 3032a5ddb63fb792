// Helpers for the SystemC model tests: a small ArchSpec built in C++, instruction builders,
// and a runner that builds a Chip in a fresh SystemC context and runs it to the end.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <systemc>

#include "models/sc/chip.h"
#include "platform/spec/isa.h"

namespace cimsim::test {

// 1 GHz (1 cycle = 1 ns = 1000 ps); 2x3 mesh of 6 cores; buffer 4096 B, 16 B/cycle;
// vector 8 lanes + 2 pipeline cycles; queue depth 4; 2 PEs x 2 crossbars, 2 ADCs per PE;
// crossbar 32 rows x 64 physical columns, 2-bit cells, offset encoding, 8-bit weights and
// activations (4 cells per weight, 16 weight columns), 1-bit DAC (T = 8); read 10 ns,
// conversion 1 ns; lossless ADC; NoC 4-byte flits, 2 cycles per hop, 1 flit/cycle;
// memory at core 0, 50 ns latency, 8 GB/s (8 bytes/cycle).
inline ArchSpec small_arch() {
  ArchSpec a;
  a.source_path = "test-arch";
  a.chip.name = "test";
  a.chip.cores = 6;
  a.chip.mesh_rows = 2;
  a.chip.mesh_cols = 3;
  a.chip.clock_mhz = 1000.0;
  a.core.pes = 2;
  a.core.buffer_bytes = 4096;
  a.core.buffer_bytes_per_cycle = 16;
  a.core.vector_lanes = 8;
  a.core.vector_pipeline_cycles = 2;
  a.core.dispatch_queue_depth = 4;
  a.pe.crossbars = 2;
  a.pe.adcs = 2;
  a.pe.shift_adds = 2;
  a.crossbar.rows = 32;
  a.crossbar.cols = 64;
  a.crossbar.cell_bits = 2;
  a.crossbar.encoding = WeightEncoding::kOffset;
  a.crossbar.read_ns = 10.0;
  a.dac.bits = 1;
  a.adc.bits = 8;
  a.adc.lossless = true;
  a.adc.conversion_ns = 1.0;
  a.noc.flit_bytes = 4;
  a.noc.hop_latency_cycles = 2;
  a.noc.link_flits_per_cycle = 1;
  a.memory.capacity_bytes = 1 << 20;
  a.memory.bandwidth_gb_per_s = 8.0;
  a.memory.latency_ns = 50.0;
  a.memory.attach_core = 0;
  a.quantization.weight_bits = 8;
  a.quantization.activation_bits = 8;
  return a;
}

// A rows x cols tile on crossbar `xbar` of PE `pe` with seeded random int8 weights in
// [-127, 127] (the same weights for the same seed in every test).
inline TileDesc random_tile(int pe, int xbar, int rows, int cols, uint32_t seed) {
  TileDesc t;
  t.pe = pe;
  t.crossbar = xbar;
  t.rows = rows;
  t.cols = cols;
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> w(-127, 127);
  for (int i = 0; i < rows * cols; ++i) t.weights.push_back(static_cast<int8_t>(w(g)));
  return t;
}

inline Addr A(int imm, int base = 0) { return Addr{static_cast<uint8_t>(base), imm}; }

inline Instruction I(Op op) {
  Instruction in;
  in.op = op;
  return in;
}
inline Instruction li(int rd, int v) { Instruction in = I(Op::kLi); in.rd = rd; in.imm[0] = v; return in; }
inline Instruction addi(int rd, int rs, int v) {
  Instruction in = I(Op::kAddi); in.rd = rd; in.rs = rs; in.imm[0] = v; return in;
}
inline Instruction blt(int rs, int rt, int target) {
  Instruction in = I(Op::kBlt); in.rs = rs; in.rt = rt; in.imm[0] = target; return in;
}
inline Instruction halt() { return I(Op::kHalt); }
inline Instruction fill(Addr d, int len, int value) {
  Instruction in = I(Op::kFill); in.addr[0] = d; in.imm[0] = len; in.imm[1] = value; return in;
}
inline Instruction copy(Addr d, Addr s, int seg, int n_in, int s_in, int d_in, int n_out, int s_out,
                        int d_out) {
  Instruction in = I(Op::kCopy);
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm = {seg, n_in, s_in, d_in, n_out, s_out, d_out, 0};
  return in;
}
inline Instruction requant(Addr d, Addr s, int len, int qid) {
  Instruction in = I(Op::kRequant); in.addr[0] = d; in.addr[1] = s; in.imm[0] = len; in.imm[1] = qid;
  return in;
}
inline Instruction binop(Op op, Addr d, Addr a, Addr b, int len, int flag) {
  Instruction in = I(op); in.addr[0] = d; in.addr[1] = a; in.addr[2] = b; in.imm[0] = len;
  in.imm[1] = flag;
  return in;
}
inline Instruction unop(Op op, Addr d, Addr s, int len, int flag) {
  Instruction in = I(op); in.addr[0] = d; in.addr[1] = s; in.imm[0] = len; in.imm[1] = flag;
  return in;
}
inline Instruction mvm(int tile, Addr d, Addr s, int acc) {
  Instruction in = I(Op::kMvm); in.imm[0] = tile; in.addr[0] = d; in.addr[1] = s; in.imm[1] = acc;
  return in;
}
inline Instruction send(Addr s, int len, int core, int tag) {
  Instruction in = I(Op::kSend); in.addr[1] = s; in.imm[0] = len; in.imm[1] = core; in.imm[2] = tag;
  return in;
}
inline Instruction recv(Addr d, int len, int core, int tag) {
  Instruction in = I(Op::kRecv); in.addr[0] = d; in.imm[0] = len; in.imm[1] = core; in.imm[2] = tag;
  return in;
}
inline Instruction load(Addr d, Addr g, int len) {
  Instruction in = I(Op::kLoad); in.addr[0] = d; in.addr[2] = g; in.imm[0] = len; return in;
}
inline Instruction store(Addr g, Addr s, int len) {
  Instruction in = I(Op::kStore); in.addr[2] = g; in.addr[1] = s; in.imm[0] = len; return in;
}

inline Program program_for(const ArchSpec& arch) {
  Program p;
  p.layers = {"l0", "l1"};
  p.cores.resize(static_cast<size_t>(arch.chip.cores));
  for (auto& c : p.cores) c.code = {halt()};
  return p;
}

// Builds the chip in a fresh SystemC context. Call run() to simulate.
struct Sim {
  std::unique_ptr<Chip> chip;
  Sim(const ArchSpec& arch, const Program& program, Observer* obs = nullptr, uint64_t seed = 1) {
    reset_systemc_context();
    chip = std::make_unique<Chip>("chip", arch, program, seed, obs);
  }
  ChipStats run() {
    sc_core::sc_start();
    return chip->stats();
  }
  // A core's buffer contents are reached through a program that stores them; tests instead
  // read values via a final `store` into global memory.
  std::vector<uint8_t> global(uint64_t addr, size_t len) {
    std::vector<uint8_t> v(len);
    chip->memory().read(addr, v.data(), len);
    return v;
  }
};

inline uint64_t cycles(uint64_t ps) { return ps / 1000; }

}  // namespace cimsim::test

namespace cimsim::test {
inline void put_bytes(Chip& chip, int core, int addr, const std::vector<uint8_t>& v) {
  std::copy(v.begin(), v.end(), chip.buffer(core).data() + addr);
}
inline std::vector<uint8_t> get_bytes(Chip& chip, int core, int addr, int len) {
  const uint8_t* p = chip.buffer(core).data() + addr;
  return std::vector<uint8_t>(p, p + len);
}
inline void put_i32(Chip& chip, int core, int addr, const std::vector<int32_t>& v) {
  std::memcpy(chip.buffer(core).data() + addr, v.data(), v.size() * 4);
}
inline std::vector<int32_t> get_i32(Chip& chip, int core, int addr, int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::memcpy(v.data(), chip.buffer(core).data() + addr, v.size() * 4);
  return v;
}
}  // namespace cimsim::test
