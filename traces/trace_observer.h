// TraceObserver: buffers every simulation event in memory and writes the trace files once.
//
// Contract: attached to the chip only when the user asks for traces (--trace-dir); it copies
// each SimEvent (actions are static strings, so the copy is cheap) and records the end time
// from on_finish. write_traces() creates DIR if needed and writes DIR/timeline.json,
// DIR/energy.csv and DIR/waves.vcd atomically (see docs/traces.md); failures throw InputError
// naming the path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

class TraceObserver : public Observer {
 public:
  void on_event(const SimEvent& e) override { events_.push_back(e); }
  void on_finish(uint64_t end_ps) override {
    end_ps_ = end_ps;
    finished_ = true;
  }
  const std::vector<SimEvent>& events() const { return events_; }
  uint64_t end_ps() const { return end_ps_; }
  bool finished() const { return finished_; }

 private:
  std::vector<SimEvent> events_;
  uint64_t end_ps_ = 0;
  bool finished_ = false;
};

struct TraceOptions {
  std::vector<std::string> layer_names;  // Program::layers
  int num_cores = 1;
  double energy_window_ns = 0;  // 0: auto_energy_window_ns
};

void write_traces(const std::string& dir, const std::vector<SimEvent>& events, uint64_t end_ps,
                  const TraceOptions& options);

}  // namespace cimsim
