#include "traces/trace_observer.h"

#include <filesystem>
#include <system_error>

#include "platform/spec/arch.h"
#include "traces/energy_csv.h"
#include "traces/file_write.h"
#include "traces/timeline.h"
#include "traces/vcd.h"

namespace cimsim {

void write_traces(const std::string& dir, const std::vector<SimEvent>& events, uint64_t end_ps,
                  const TraceOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw InputError(dir + ": cannot create trace directory: " +
                     (ec ? ec.message() : std::string("not a directory")));
  const std::filesystem::path base(dir);
  write_file_atomically((base / "energy.csv").string(),
                        build_energy_csv(events, end_ps, options.energy_window_ns));
  write_file_atomically((base / "timeline.json").string(),
                        build_timeline_json(events, options.layer_names, options.num_cores));
  write_file_atomically((base / "waves.vcd").string(), build_vcd(events, end_ps, options.num_cores));
}

}  // namespace cimsim
