// The timing model's parameters in cycles, derived once from an ArchSpec (docs/timing.md).
//
// Contract: every latency the models use comes from here, so docs/timing.md's formulas are
// in one place. Times are integral cycles of the chip clock; analog durations in ns become
// cycles with ceil(ns / cycle_ns) (with a 1e-9 relative tolerance so 100 ns at 1 GHz is
// 100 cycles, not 101).
#pragma once

#include <array>
#include <cstdint>

#include "platform/spec/arch.h"
#include "traces/energy_ledger.h"

namespace cimsim {

struct TimingParams {
  explicit TimingParams(const ArchSpec& arch);

  double cycle_ns = 1.0;
  double cycle_ps = 1000.0;
  int64_t buffer_bytes = 0;
  int bytes_per_cycle = 32;  // core.buffer_bytes_per_cycle
  int buffer_ports = 1;      // core.buffer_ports
  int lanes = 32;
  int vector_pipeline = 2;
  int queue_depth = 8;
  int hop_latency = 1;
  int flit_bytes = 4;
  int link_flits_per_cycle = 1;
  int mesh_rows = 1, mesh_cols = 1;
  int memory_node = 0;
  uint64_t memory_latency = 0;       // cycles
  int memory_queue_depth = 32;       // requests the memory controller holds
  double memory_bytes_per_cycle = 1;  // bandwidth_gb_per_s * cycle_ns (1 GB/s = 1 byte/ns)
  int input_steps = 8;               // T
  int cells_per_weight = 1;
  int adcs_per_crossbar = 1;         // A = max(1, pe.adcs / pe.crossbars)
  bool adc_shared = false;           // pe.adcs < pe.crossbars: ADC k mod adcs is reserved
  int adcs_per_pe = 1;
  int crossbars_per_pe = 1;
  double read_ns = 100, conversion_ns = 1;
  uint64_t shift_add_latency = 0;    // pe.shift_add_latency_cycles (the tlm shift-and-add)

  uint64_t ns_to_cycles(double ns) const;
  uint64_t buffer_cycles(int64_t bytes) const {
    return static_cast<uint64_t>((bytes + bytes_per_cycle - 1) / bytes_per_cycle);
  }
  uint64_t vector_cycles(int64_t elements, int64_t bytes_moved) const;
  // Analog part of one MVM: read_ns + T * max(read_ns, ceil(P / A) * conversion_ns), P = cols * cells.
  uint64_t mvm_analog_cycles(int cols) const;
  uint64_t memory_transfer_cycles(int64_t bytes) const;
  uint64_t flits(int64_t bytes) const;  // at least one (a header flit for empty messages)
  uint64_t link_busy_cycles(uint64_t flits) const {
    return (flits + link_flits_per_cycle - 1) / link_flits_per_cycle;
  }
  uint64_t to_ps(uint64_t cycles) const;
};

// Dynamic energy per action, pJ, indexed by Component (missing components cost 0).
struct CostTable {
  explicit CostTable(const ArchSpec& arch);
  std::array<double, static_cast<size_t>(Component::kCount)> pj{};
  double operator[](Component c) const { return pj[static_cast<size_t>(c)]; }
};

}  // namespace cimsim
