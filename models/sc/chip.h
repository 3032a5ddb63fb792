// The whole chip as one SystemC module: cores (interpreters + local buffers), the mesh NoC
// and global memory, wired with TLM-2.0 sockets (docs/models.md).
//
// Runtime errors start with "core C, pc P (INSTRUCTION): "; errors that are the simulator's
// own fault (not the program's) start with "internal: ". When the last core halts with every
// message received, the observer's on_finish(end_ps) is called.
//
// Contract: construct during elaboration (before sc_start), optionally set_batch(), write
// inputs with memory().write(), run sc_start() (returns when no event remains: all cores
// halted, deadlocked, or stopped by an error) or sc_start(limit), then read finished(),
// blocked(), error() and stats(). Bad programs that can be seen before running (a tile on a
// PE or crossbar the core lacks, more core streams than cores) throw InputError from the
// constructor; errors found while running (out-of-range access, recv length mismatch) stop
// the simulation and appear in error(). Same arch, program, seed and inputs give the same
// values, times and energies.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/sc/core.h"
#include "models/sc/global_memory.h"
#include "models/sc/local_buffer.h"
#include "models/sc/mailbox.h"
#include "models/sc/noc.h"
#include "models/sc/timing_params.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"
#include "traces/energy_ledger.h"
#include "traces/layer_times.h"
#include "traces/observer.h"

namespace cimsim {

struct ChipStats {
  uint64_t end_ps = 0;                      // last core halted and all traffic drained
  uint64_t instructions_executed = 0;       // dynamic count, all cores
  std::vector<uint64_t> core_instructions;  // per core
  std::vector<uint64_t> core_busy_ps;       // per core: time any unit was busy (union)
  std::vector<uint64_t> core_finish_ps;     // per core halt time (0 if it never halted)
  std::vector<std::vector<uint64_t>> crossbar_busy_ps;  // [core][pe * crossbars + xbar]
  EnergyLedger energy;                      // dynamic energy by component and layer
  std::vector<LayerTime> layer_times;       // per Program::layers index (LayerTimes, in ps)
  uint64_t mvms = 0, adc_conversions = 0, adc_saturations = 0, flit_hops = 0, memory_bytes = 0;
  uint64_t macs = 0;  // additive: sum over executed mvms of tile rows x cols
  // Back-pressure: time messages waited for receive-buffer credits (summed over messages),
  // and the most bytes any one receive channel held (what noc.rx_channel_bytes must cover
  // for the run to see no back-pressure).
  uint64_t credit_stall_ps = 0;
  uint64_t rx_peak_channel_bytes = 0;
  uint64_t memory_queue_stall_ps = 0;  // requests' waits for a memory queue entry, summed
  // Clock cycles the cores' RTL models simulated (pe.shift_add_model: rtl; docs/cosim.md).
  uint64_t rtl_cycles = 0;
};

struct BlockedCore {
  int core;
  uint32_t pc;
  std::string instruction;
  std::string waiting_for;
};

class Chip : public sc_core::sc_module {
 public:
  Chip(sc_core::sc_module_name name, const ArchSpec& arch, const Program& program, uint64_t seed,
       Observer* observer);
  ~Chip() override;

  GlobalMemory& memory() { return *memory_; }
  // r15 at start. Throws InputError when n images of a model input or output would overlap
  // the reloadable weights stored in global memory (a batch larger than the program's
  // max_batch), which would otherwise silently change the weights wload programs.
  void set_batch(int n);
  bool finished() const;                     // every core halted, no message unreceived
  std::vector<BlockedCore> blocked() const;  // cores not halted, with what they wait for
  const std::string& error() const;          // non-empty if a core hit a runtime error
  ChipStats stats() const;
  const std::atomic<uint64_t>& progress_instructions() const { return context_.progress; }
  // Additive (tests, debugging): a core's local buffer, readable and writable before and
  // after a run.
  LocalBuffer& buffer(int core) { return *buffers_[static_cast<size_t>(core)]; }

 private:
  ArchSpec arch_;
  TimingParams timing_;
  CostTable costs_;
  Observer* observer_;
  ChipContext context_;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;
  std::unique_ptr<Noc> noc_;
  std::unique_ptr<GlobalMemory> memory_;
  std::vector<std::unique_ptr<LocalBuffer>> buffers_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::vector<std::pair<int64_t, int64_t>> reload_ranges_;  // merged [begin, end) of stored weights
  std::vector<TensorIO> io_;                                 // program inputs and outputs
};

// A fresh SystemC simulation context, so tests and tools can build more than one Chip per
// process. Call before constructing the next Chip; the previous context's modules must not
// be used afterwards (the old context is leaked on purpose: SystemC 2.3 cannot delete it safely).
void reset_systemc_context();

}  // namespace cimsim
