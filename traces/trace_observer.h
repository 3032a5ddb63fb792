// TraceObserver: writes the trace files while the simulation runs.
//
// Contract (docs/traces.md): constructed before the run when the user asks for traces
// (--trace-dir); the constructor creates DIR if needed and opens the files as temporaries
// (InputError naming the path on failure). on_event() drops events the TraceSelection does
// not select and streams the rest into the writers: timeline.pftrace (TraceFormat::kPerfetto,
// written as events arrive) or timeline.json (TraceFormat::kJson: events are kept in memory
// and the file is built at the end, 56 bytes per event while running), energy.csv (per-window
// sums) and waves.vcd (sorted runs spilled to disk). write() completes every file and renames
// it into place; a TraceObserver destroyed without write() (the run failed) removes its
// temporaries and the directory if it created it and left it empty. bytes_held() is the
// memory the observer's state occupies: bounded for kPerfetto, independent of trace length.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "traces/energy_csv.h"
#include "traces/observer.h"
#include "traces/perfetto_timeline.h"
#include "traces/trace_selection.h"
#include "traces/vcd.h"

namespace cimsim {

enum class TraceFormat { kPerfetto, kJson };

// "perfetto" / "json"; anything else is an InputError naming --trace-format.
TraceFormat parse_trace_format(const std::string& name);

struct TraceOptions {
  std::vector<std::string> layer_names;  // Program::layers
  int num_cores = 1;
  double energy_window_ns = 0;  // 0: auto_energy_window_ns
  TraceFormat format = TraceFormat::kPerfetto;
  TraceSelection selection;     // default: everything
  int num_nodes = 0;            // NoC routers (link events' core); global memory's pid is above them
};

class TraceObserver : public Observer {
 public:
  TraceObserver(std::string dir, TraceOptions options);
  ~TraceObserver() override;
  TraceObserver(const TraceObserver&) = delete;
  TraceObserver& operator=(const TraceObserver&) = delete;

  void on_event(const SimEvent& e) override;
  void on_finish(uint64_t end_ps) override {
    end_ps_ = end_ps;
    finished_ = true;
  }
  // Completes the files (end_ps: the end of the run) and renames them into DIR. Call once.
  void write(uint64_t end_ps);

  uint64_t end_ps() const { return end_ps_; }
  bool finished() const { return finished_; }
  uint64_t events_seen() const { return seen_; }
  uint64_t events_selected() const { return selected_; }
  size_t bytes_held() const;

 private:
  void cleanup();

  std::string dir_;
  TraceOptions options_;
  bool created_dir_ = false;
  bool written_ = false;
  std::vector<std::string> temporaries_;
  std::ofstream timeline_file_;
  std::unique_ptr<PerfettoTimelineWriter> perfetto_;
  std::vector<SimEvent> json_events_;  // kJson only
  EnergyCsvAccumulator energy_;
  std::unique_ptr<VcdWriter> vcd_;
  uint64_t end_ps_ = 0;
  bool finished_ = false;
  uint64_t seen_ = 0, selected_ = 0;
};

// Writes the trace files for a recorded event list (tests, tools): the same files as a
// TraceObserver fed with `events`.
void write_traces(const std::string& dir, const std::vector<SimEvent>& events, uint64_t end_ps,
                  const TraceOptions& options);

}  // namespace cimsim
