#include "traces/trace_observer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "platform/spec/arch.h"
#include "traces/file_write.h"
#include "traces/timeline.h"

namespace cimsim {
namespace {

std::string in_dir(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace

TraceFormat parse_trace_format(const std::string& name) {
  if (name == "perfetto") return TraceFormat::kPerfetto;
  if (name == "json") return TraceFormat::kJson;
  throw InputError("--trace-format: unknown format '" + name + "' (expected perfetto or json)");
}

TraceObserver::TraceObserver(std::string dir, TraceOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), energy_(options_.energy_window_ns) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(dir_, ec);
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_))
    throw InputError(dir_ + ": cannot create trace directory: " +
                     (ec ? ec.message() : std::string("not a directory")));
  created_dir_ = !existed;
  try {
    if (options_.format == TraceFormat::kPerfetto) {
      const std::string path = in_dir(dir_, "timeline.pftrace");
      temporaries_.push_back(temporary_path_for(path));
      timeline_file_.open(temporaries_.back(), std::ios::binary | std::ios::trunc);
      if (!timeline_file_) throw InputError(path + ": cannot write");
      const int memory_pid = std::max({options_.num_cores, options_.num_nodes, 1});
      perfetto_ = std::make_unique<PerfettoTimelineWriter>(timeline_file_, options_.layer_names, memory_pid);
    }
    const std::string spill = temporary_path_for(in_dir(dir_, "waves.vcd")) + ".runs";
    temporaries_.push_back(spill);  // VcdWriter removes it itself; listed for failed runs
    vcd_ = std::make_unique<VcdWriter>(options_.num_cores, spill, VcdWriter::kRunChanges, options_.selection.cores);
  } catch (...) {
    cleanup();
    throw;
  }
}

TraceObserver::~TraceObserver() {
  if (!written_) cleanup();
}

void TraceObserver::cleanup() {
  vcd_.reset();
  perfetto_.reset();
  if (timeline_file_.is_open()) timeline_file_.close();
  for (const auto& t : temporaries_) std::remove(t.c_str());
  std::error_code ec;
  if (created_dir_ && std::filesystem::is_empty(dir_, ec)) std::filesystem::remove(dir_, ec);
}

void TraceObserver::on_event(const SimEvent& e) {
  ++seen_;
  if (!options_.selection.selects(e)) return;
  ++selected_;
  if (perfetto_)
    perfetto_->add(e);
  else
    json_events_.push_back(e);
  energy_.add(e);
  vcd_->add(e);
}

void TraceObserver::write(uint64_t end_ps) {
  if (written_) return;
  const std::string timeline = in_dir(dir_, options_.format == TraceFormat::kPerfetto ? "timeline.pftrace"
                                                                                      : "timeline.json");
  const std::string vcd = in_dir(dir_, "waves.vcd");
  const std::string energy = in_dir(dir_, "energy.csv");
  // Build every file as a temporary first, so that a failure leaves none of them renamed.
  if (perfetto_) {
    perfetto_->finish();
    timeline_file_.close();
    if (!timeline_file_) throw InputError(timeline + ": cannot write");
  } else {
    temporaries_.push_back(temporary_path_for(timeline));
    std::ofstream f(temporaries_.back(), std::ios::binary | std::ios::trunc);
    f << build_timeline_json(json_events_, options_.layer_names, options_.num_cores);
    if (!f.flush()) throw InputError(timeline + ": cannot write");
  }
  {
    temporaries_.push_back(temporary_path_for(vcd));
    std::ofstream f(temporaries_.back(), std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(vcd + ": cannot write");
    vcd_->write(f, end_ps);
    if (!f.flush()) throw InputError(vcd + ": cannot write");
  }
  vcd_.reset();  // removes the spill file
  {
    temporaries_.push_back(temporary_path_for(energy));
    std::ofstream f(temporaries_.back(), std::ios::binary | std::ios::trunc);
    f << energy_.csv(end_ps);
    if (!f.flush()) throw InputError(energy + ": cannot write");
  }
  for (const std::string& path : {energy, timeline, vcd}) commit_temporary(path);
  written_ = true;
  temporaries_.clear();
}

size_t TraceObserver::bytes_held() const {
  size_t n = energy_.bytes_held() + json_events_.capacity() * sizeof(SimEvent);
  if (perfetto_) n += perfetto_->bytes_held();
  if (vcd_) n += vcd_->bytes_held();
  return n;
}

void write_traces(const std::string& dir, const std::vector<SimEvent>& events, uint64_t end_ps,
                  const TraceOptions& options) {
  TraceObserver observer(dir, options);
  for (const auto& e : events) observer.on_event(e);
  observer.write(end_ps);
}

}  // namespace cimsim
