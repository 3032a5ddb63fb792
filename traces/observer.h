// Simulation events and the observer interface: how models report what they did.
//
// Contract: models call Observer::on_event for every action they perform (one event per
// executed instruction on its unit, per NoC packet per link, per memory access), with the
// time span it occupied and the dynamic energy it cost. When no observer is attached the
// models make no call at all (tracing off costs a null-pointer test). Energy totals for the
// report do not depend on observers: models always charge the EnergyLedger.
#pragma once

#include <cstdint>

namespace cimsim {

enum class Unit : uint8_t {
  kScalar = 0,    // core scalar unit (fetch/dispatch, scalar ops)
  kVector = 1,    // core vector unit
  kCrossbar = 2,  // one crossbar (unit_index = pe * crossbars_per_pe + crossbar)
  kAdc = 3,       // one ADC (unit_index = pe * adcs_per_pe + adc)
  kNic = 4,       // core network interface (send/recv/load/store)
  kLink = 5,      // a NoC link (core = source router, unit_index = direction 0..4: E W N S local)
  kMemory = 6,    // global memory port (core = -1)
  kWait = 7,      // a core's NIC held back (unit_index 0: receive-channel credits, 1: memory
                  // queue entry); spans the wait, carries no energy, is not an instruction
};

const char* unit_name(Unit u);

struct SimEvent {
  int32_t core = -1;
  Unit unit = Unit::kScalar;
  int32_t unit_index = 0;
  uint16_t layer = 0;           // Program::layers index
  const char* action = "";      // static string: "mvm", "copy", "send", "flit", ...
  uint64_t start_ps = 0;
  uint64_t duration_ps = 0;
  double energy_pj = 0.0;       // dynamic energy of this action
  uint32_t pc = 0;              // instruction index, when the event is an instruction
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_event(const SimEvent& e) = 0;
  // Called once when the run has ended (all cores halted and traffic drained, or stopped).
  virtual void on_finish(uint64_t end_ps) { (void)end_ps; }
};

}  // namespace cimsim
