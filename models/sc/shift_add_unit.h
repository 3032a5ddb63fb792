// A swappable shift-and-add unit: what a core hands an MVM's ADC samples to when the arch
// selects `pe.shift_add_model: rtl` (docs/cosim.md).
//
// Contract: run() computes the job's results exactly as kernels::shift_add_reference does
// (models/kernels/shift_add.h) and returns the unit's latency beyond the ADC's pace: the
// cycles from its first sample to the cycle its last result is taken, minus one per sample
// (its pipeline drain plus any cycle it held a sample back). The platform adds that to the
// end of the MVM's analog phase (docs/timing.md). It is called from the owning core's
// SC_THREAD and may spend delta cycles (SC_ZERO_TIME waits), never simulated time. Bad
// behaviour of the unit (no result within a bounded number of cycles) throws SimError.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/kernels/shift_add.h"

namespace cimsim {

class ShiftAddUnit {
 public:
  virtual ~ShiftAddUnit() = default;
  virtual uint64_t run(const kernels::ShiftAddJob& job, int32_t* out) = 0;
  // Clock cycles this unit has simulated so far (for the cost of co-simulation).
  virtual uint64_t cycles_simulated() const = 0;
};

// True when this cimsim was built with Verilator (CMake option CIMSIM_RTL).
bool rtl_available();
// The Verilated shift-and-add RTL as a child sc_module named `name` of the module under
// construction. Throws InputError, naming `key`, in a cimsim built without Verilator.
std::unique_ptr<ShiftAddUnit> make_rtl_shift_add(const char* name, const std::string& key);

}  // namespace cimsim
