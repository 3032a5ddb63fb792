// One core: an instruction interpreter with temporal decoupling (docs/models.md).
//
// Contract: a single SC_THREAD runs the core's stream. It executes every instruction's
// values at once, in program order (the ISA's semantics are sequential per core), and
// computes the instruction's dispatch/start/end cycles analytically from the scoreboard
// of docs/timing.md: per-unit in-order queues with next-free cycles, per-32-byte-block
// ready times, crossbar, shared-ADC and buffer-port reservations. It synchronizes with SystemC time
// only before touching shared resources (send, recv, load, store, all on the NIC) and
// once per quantum, so other cores see its traffic in time order. Errors in the stream
// (out-of-range buffer/memory access, bad branch target, mismatched recv length) are
// caught in the thread, recorded in ChipContext and stop the simulation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/kernels/crossbar_kernel.h"
#include "models/sc/buffer_port.h"
#include "models/sc/mailbox.h"
#include "models/sc/noc_protocol.h"
#include "models/sc/shift_add_unit.h"
#include "models/sc/timing_params.h"
#include "platform/spec/isa.h"
#include "traces/energy_ledger.h"
#include "traces/layer_times.h"
#include "traces/observer.h"

namespace cimsim {

// State the cores of one chip share (the chip owns it).
struct ChipContext {
  std::atomic<uint64_t> progress{0};
  std::string error;
  int batch = 1;
  EnergyLedger ledger;
  LayerTimes layer_times;  // per-layer work spans in core cycles (report.json "layers")
  uint64_t mvms = 0, macs = 0, adc_conversions = 0, adc_saturations = 0;
  std::function<void()> on_core_halted;  // the chip checks whether the run is over
};

class Core : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Core> noc_socket;
  tlm_utils::simple_initiator_socket<Core> buffer_socket;

  SC_HAS_PROCESS(Core);
  Core(sc_core::sc_module_name name, int index, const ArchSpec& arch, const TimingParams& timing,
       const CostTable& costs, const CoreProgram& program, uint64_t seed, Observer* observer,
       ChipContext* context, Mailbox* mailbox);
  ~Core() override;

  bool halted() const { return halted_; }
  uint32_t pc() const { return pc_; }
  // What the thread waits for ("recv from core 3 tag 17", ...); empty when it does not wait.
  std::string waiting_for() const;
  const Instruction* current_instruction() const;
  uint64_t instructions() const { return instructions_; }
  uint64_t finish_cycle() const { return finish_cycle_; }
  uint64_t busy_cycles() const { return busy_cycles_; }
  const std::vector<uint64_t>& crossbar_busy_cycles() const { return xbar_busy_; }
  // Clock cycles the core's RTL shift-and-add simulated (0 with the tlm model).
  uint64_t rtl_cycles() const { return shift_add_ ? shift_add_->cycles_simulated() : 0; }

 private:
  struct UnitState {
    uint64_t free = 0;
    std::vector<uint64_t> queue_starts;  // start cycles of the last queue_depth instructions
    size_t pos = 0;
  };
  struct TileRuntime {
    std::unique_ptr<ProgrammedTile> tile;
    int unit = 0;   // index into units_
    int xbar = 0;   // pe * crossbars + crossbar
    int adc = 0;    // pe * adcs + crossbar % adcs (when shared)
    int rows = 0, cols = 0;
    uint64_t analog_cycles = 0;
    // Buffer cycles to read the inputs and to move the int32 outputs, fixed per tile
    // (precomputed: two divisions per MVM otherwise).
    uint64_t in_cycles = 0, out_cycles = 0;
    std::vector<int32_t> scratch;
    // Reloadable tiles (TileDesc::weight_global_addr >= 0): where their weights live, the
    // hash of the codes the ProgrammedTile was built from, and its seed stream (a wload that
    // reads different bytes rebuilds the tile from them with the same stream).
    int64_t weight_global_addr = -1;
    uint64_t weights_hash = 0;
    uint64_t seed_stream = 0;
    bool input_unsigned = true;
    int layer = 0;
    float adc_full_scale = 0.0f;
    float adc_offset_lsb = 0.0f;
  };
  enum { kVectorUnit = 0, kNicUnit = 1, kFirstCrossbarUnit = 2 };

  void thread();
  void interpret();
  [[noreturn]] void fail(const std::string& what) const;
  std::string where() const;  // "core C, pc P (TEXT): "
  void stop_with(const std::string& message);

  int64_t address(const Addr& a, int64_t len) const;  // checked
  uint64_t dispatch(int unit);                         // returns dispatch cycle
  void retire(int unit, uint64_t start, uint64_t end);
  uint64_t read_ready(int64_t addr, int64_t len) const;
  uint64_t write_ready(int64_t addr, int64_t len) const;
  void mark_read(int64_t addr, int64_t len, uint64_t start);
  void mark_write(int64_t addr, int64_t len, uint64_t end);
  // Books the buffer port free soonest (ties: the lowest) for a transfer; returns its start.
  uint64_t reserve_port(uint64_t want, uint64_t cycles, uint64_t floor);
  void add_busy(uint64_t a, uint64_t b);
  void flush_busy(uint64_t before);
  void sync_to(uint64_t cycle);
  uint64_t now_cycle() const;
  void charge(Component c, uint16_t layer, double count, double* sum) {
    double pj = costs_[c] * count;
    context_->ledger.add(c, layer, pj);
    *sum += pj;
  }
  void emit(Unit unit, int index, const Instruction& in, uint64_t start, uint64_t end, double pj);
  // The NIC's wait for credits (kind 0) or a memory queue entry (kind 1), when there was one.
  void emit_wait(int kind, const Instruction& in, uint64_t from, uint64_t until);

  void exec_vector(const Instruction& in, uint64_t d);
  void exec_mvm(const Instruction& in, uint64_t d);
  void exec_nic(const Instruction& in, uint64_t d);
  void exec_wload(const Instruction& in, uint64_t d);
  // Sends BEGIN_REQ for `trans` (annotated to `request_cycle`) and blocks the thread until
  // the NoC accepted it (END_REQ) or answered it (BEGIN_RESP); wait_ (set by the caller)
  // says what for, and is cleared. Returns with SystemC time at the acceptance; the
  // caller owns one reference to trans and releases it.
  void transact(tlm::tlm_generic_payload* trans, uint64_t request_cycle);
  tlm::tlm_generic_payload* new_payload(tlm::tlm_command cmd, uint64_t address, uint8_t* data,
                                        int64_t len);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);

  int index_;
  const TimingParams& t_;
  const CostTable& costs_;
  CoreProgram program_;  // code and tables (tile weights live in the ProgrammedTiles)
  Observer* observer_;
  ChipContext* context_;
  Mailbox* mailbox_;

  uint8_t* buf_ = nullptr;
  int64_t buf_bytes_ = 0;
  int32_t regs_[kNumRegisters] = {};
  uint32_t pc_ = 0;
  uint64_t t_dispatch_ = 0;  // cycle the next instruction can dispatch
  uint64_t synced_ = 0;      // SystemC time in cycles at the last sync
  std::vector<UnitState> units_;
  std::vector<TileRuntime> tiles_;
  // Crossbar residency: per crossbar (pe * crossbars + crossbar), the tile it holds (-1: none).
  std::vector<int> xbar_holds_;
  const ArchSpec* arch_ = nullptr;  // the chip's copy; reloadable tiles are rebuilt from it
  double write_ns_per_row_ = 0;
  std::vector<uint8_t> wload_bytes_;
  std::vector<bool> requant_ok_;  // per qid: the table is well formed
  std::vector<uint64_t> adc_free_;
  // pe.shift_add_model: rtl: the unit every MVM's ADC samples go through (one per core: the
  // core computes its MVMs one at a time), and the job buffer reused between MVMs.
  std::unique_ptr<ShiftAddUnit> shift_add_;
  kernels::ShiftAddJob shift_add_job_;
  std::vector<BufferPort> ports_;  // every buffer transfer of every unit reserves one
  std::vector<uint64_t> block_written_;  // per 32-byte block: cycle the last write completes
  std::vector<uint64_t> block_read_;     // per block: latest start of an instruction reading it
  std::vector<std::pair<uint64_t, uint64_t>> busy_pending_;
  uint64_t busy_cycles_ = 0;
  std::vector<uint64_t> xbar_busy_;
  uint64_t instructions_ = 0;
  uint64_t finish_cycle_ = 0;
  bool halted_ = false;
  // Described lazily (only a deadlock report reads it), and holding no heap memory: a
  // thread that never resumes never frees what its frame owns.
  struct Wait {
    enum Kind : uint8_t { kNone, kRecv, kAdmission, kLoad, kStore, kWload } kind = kNone;
    int peer = 0;  // recv: source; admission: destination; wload: tile
    int tag = 0;
    int64_t len = 0;
  };
  Wait wait_;
  PayloadPool pool_;  // declared last but one: payloads in flight outlive nothing they point to
  tlm::tlm_generic_payload* pending_ = nullptr;  // the request the thread waits on
  bool pending_accepted_ = false;
  sc_core::sc_event accepted_;
};

}  // namespace cimsim
