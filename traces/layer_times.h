// Per-layer timing of a run: when each layer's work began and ended, and how long its
// instructions occupied their units. Always on and O(layers) (a few adds per instruction),
// like the EnergyLedger, whose layer attribution it shares.
//
// Contract (docs/report.md, "layers"):
//  - Layer ids are Program::layers indices, mapped by ledger_layer() exactly as the
//    EnergyLedger maps them (an id outside the table counts as layer 0), so a layer's time
//    and its energy come from the same instructions.
//  - add() is called once per executed instruction with its work span in core clock cycles:
//    [work_start, end), where work_start is the instruction's start on its unit, except for
//    recv and load (add_input()), which wait for their bytes: for them it is the cycle the
//    bytes began to be written into the local buffer, and `arrival` is the cycle they reached
//    the core (a message's tail at the NIC, a load's last byte back).
//  - A layer's start is when its first input bytes arrived (the earliest arrival of its recv
//    and load instructions, whatever order the code takes them in), as the estimator's start
//    is its first input row being ready, so prologue work (a padding fill at cycle 2) does not
//    pin it to the start of the run; a layer without recv or load starts with its first
//    non-scalar instruction. Its end is the latest end of its non-scalar instructions.
//    Scalar instructions (register setup, loop control, halt: they execute at dispatch)
//    count in busy and instructions only.
//  - Totals are order-independent (min, max, sums): the same run gives the same figures
//    whatever order cores report in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "traces/energy_ledger.h"

namespace cimsim {

enum class LayerWork : uint8_t {
  kScalar,  // executes at dispatch: counts in busy and instructions only
  kUnit,    // vector, mvm, wload, send, store, and recv/load through add_input()
};

// One layer's figures in core clock cycles.
struct LayerCycles {
  static constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  uint64_t first_input_cycle = kNone;  // earliest arrival of a recv's or load's bytes
  uint64_t first_work_cycle = kNone;   // earliest work_start of a non-scalar instruction
  uint64_t last_end_cycle = 0;         // latest end of a non-scalar instruction
  uint64_t busy_cycles = 0;            // sum of (end - work_start) over all its instructions
  uint64_t instructions = 0;           // executed, scalar ones included
  uint64_t unit_instructions = 0;      // executed, non-scalar
  uint64_t start_cycle() const { return first_input_cycle != kNone ? first_input_cycle : first_work_cycle; }
};

class LayerTimes {
 public:
  explicit LayerTimes(size_t num_layers = 1) { resize(num_layers); }
  void resize(size_t num_layers) { layers_.assign(std::max<size_t>(1, num_layers), LayerCycles{}); }
  void add(uint16_t layer, uint64_t work_start, uint64_t end, LayerWork kind) {
    LayerCycles& l = layers_[ledger_layer(layer, layers_.size())];
    ++l.instructions;
    l.busy_cycles += end > work_start ? end - work_start : 0;
    if (kind == LayerWork::kScalar) return;
    ++l.unit_instructions;
    l.first_work_cycle = std::min(l.first_work_cycle, work_start);
    l.last_end_cycle = std::max(l.last_end_cycle, end);
  }
  void add_input(uint16_t layer, uint64_t arrival, uint64_t work_start, uint64_t end) {
    add(layer, work_start, end, LayerWork::kUnit);
    LayerCycles& l = layers_[ledger_layer(layer, layers_.size())];
    l.first_input_cycle = std::min(l.first_input_cycle, arrival);
  }
  size_t layers() const { return layers_.size(); }
  const LayerCycles& get(size_t layer) const { return layers_[layer]; }

 private:
  std::vector<LayerCycles> layers_;
};

// A layer's figures in ps, as ChipStats and RunStats carry them (unit_instructions == 0:
// the layer ran no unit instruction, start_ps and end_ps are meaningless and reported null).
struct LayerTime {
  uint64_t start_ps = 0, end_ps = 0, busy_ps = 0;
  uint64_t instructions = 0, unit_instructions = 0;
};

}  // namespace cimsim
