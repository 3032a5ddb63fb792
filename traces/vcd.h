// waves.vcd: busy signals and instruction counters in Value Change Dump format.
//
// Contract (docs/traces.md): generated from the observer's event stream (not by sc_trace,
// which would need a signal per unit inside the models), in the layout sc_trace writes:
// timescale 1 ps, scope "SystemC" with one sub-scope per core ("core_N") and one for global
// memory. Per core: a 1-bit "<unit>_busy" wire per unit that reported events (busy while at
// least one of its events spans the time) and a 32-bit "instructions" wire counting completed
// instructions (events of the scalar, vector, crossbar and nic units, counted at their end).
//
// Streaming (VcdWriter): a VCD lists its signals before any change and its changes in time
// order, while events arrive out of time order and reveal new signals as the run goes. The
// writer therefore keeps each event as value changes (16 bytes each) in a buffer of
// kRunChanges; a full buffer is sorted by time and appended to a spill file as one sorted
// run. write() emits the header (all signals are known by then) and merges the runs. Memory:
// the buffer plus a kMergeBuffer-change read buffer per run while merging; disk: 16 bytes
// per change, removed by write() and by the destructor.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

class VcdWriter {
 public:
  static constexpr size_t kRunChanges = 256 * 1024;
  static constexpr size_t kMergeBuffer = 256;

  // spill_path: where sorted runs go; "" keeps every change in memory (tests, small runs).
  // Every core gets an instruction counter, or with a non-empty `cores` mask (a --trace-cores
  // selection) only the cores it marks.
  VcdWriter(int num_cores, std::string spill_path, size_t run_changes = kRunChanges,
            const std::vector<bool>& cores = {});
  ~VcdWriter();
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  // Never throws for a spill failure (it is called from inside the simulation): the failure is
  // kept, further events are dropped, and write() reports it.
  void add(const SimEvent& e);
  // Writes the whole file to `out`; end_ps extends the dump to the end of the run. Throws
  // InputError when the spill file could not be written or read back.
  void write(std::ostream& out, uint64_t end_ps);
  size_t bytes_held() const;
  size_t runs() const { return runs_.size(); }

  struct Change {
    uint64_t ps;
    uint32_t signal;
    int32_t delta;
  };

 private:
  uint32_t signal_of(int core, int unit, int index);
  void spill();

  std::string spill_path_;
  size_t run_changes_;
  std::FILE* spill_ = nullptr;
  std::map<std::tuple<int, int, int>, uint32_t> signal_ids_;  // key -> index in widths_
  std::vector<int> widths_;
  std::vector<Change> buffer_;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // (first change, count) in the spill file
  uint64_t spilled_ = 0;
  std::string error_;  // a spill failure, reported by write()
};

std::string build_vcd(const std::vector<SimEvent>& events, uint64_t end_ps, int num_cores);

}  // namespace cimsim
