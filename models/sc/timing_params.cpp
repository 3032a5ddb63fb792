#include "models/sc/timing_params.h"

#include <algorithm>
#include <cmath>

#include "platform/spec/slicing.h"

namespace cimsim {

TimingParams::TimingParams(const ArchSpec& arch) {
  cycle_ns = 1000.0 / arch.chip.clock_mhz;
  cycle_ps = cycle_ns * 1000.0;
  buffer_bytes = arch.core.buffer_bytes;
  bytes_per_cycle = std::max(1, arch.core.buffer_bytes_per_cycle);
  buffer_ports = std::max(1, arch.core.buffer_ports);
  lanes = std::max(1, arch.core.vector_lanes);
  vector_pipeline = arch.core.vector_pipeline_cycles;
  queue_depth = std::max(1, arch.core.dispatch_queue_depth);
  hop_latency = arch.noc.hop_latency_cycles;
  flit_bytes = std::max(1, arch.noc.flit_bytes);
  link_flits_per_cycle = std::max(1, arch.noc.link_flits_per_cycle);
  mesh_rows = arch.chip.mesh_rows;
  mesh_cols = std::max(1, arch.chip.mesh_cols);
  memory_node = arch.memory.attach_core;
  memory_latency = ns_to_cycles(arch.memory.latency_ns);
  memory_queue_depth = arch.memory.queue_depth;
  memory_bytes_per_cycle = arch.memory.bandwidth_gb_per_s * cycle_ns;
  input_steps = slicing::input_steps(arch.quantization.activation_bits, arch.dac.bits);
  cells_per_weight = slicing::cells_per_weight(arch.quantization.weight_bits,
                                               arch.crossbar.cell_bits, arch.crossbar.encoding);
  crossbars_per_pe = std::max(1, arch.pe.crossbars);
  adcs_per_pe = std::max(1, arch.pe.adcs);
  adcs_per_crossbar = std::max(1, adcs_per_pe / crossbars_per_pe);
  adc_shared = adcs_per_pe < crossbars_per_pe;
  read_ns = arch.crossbar.read_ns;
  conversion_ns = arch.adc.conversion_ns;
  shift_add_latency = static_cast<uint64_t>(std::max(0, arch.pe.shift_add_latency_cycles));
}

uint64_t TimingParams::ns_to_cycles(double ns) const {
  if (!(ns > 0)) return 0;
  double x = ns / cycle_ns;
  return static_cast<uint64_t>(std::ceil(x - 1e-9 * std::max(1.0, x)));
}

uint64_t TimingParams::vector_cycles(int64_t elements, int64_t bytes_moved) const {
  uint64_t lanes_cycles = static_cast<uint64_t>((elements + lanes - 1) / lanes);
  return static_cast<uint64_t>(vector_pipeline) + std::max(lanes_cycles, buffer_cycles(bytes_moved));
}

uint64_t TimingParams::mvm_analog_cycles(int cols) const {
  int64_t p = static_cast<int64_t>(cols) * cells_per_weight;
  int64_t per_adc = (p + adcs_per_crossbar - 1) / adcs_per_crossbar;
  double step_ns = std::max(read_ns, static_cast<double>(per_adc) * conversion_ns);
  return ns_to_cycles(read_ns + input_steps * step_ns);
}

uint64_t TimingParams::memory_transfer_cycles(int64_t bytes) const {
  if (bytes <= 0) return 0;
  double x = static_cast<double>(bytes) / memory_bytes_per_cycle;
  return static_cast<uint64_t>(std::ceil(x - 1e-9 * std::max(1.0, x)));
}

uint64_t TimingParams::flits(int64_t bytes) const {
  return std::max<uint64_t>(1, static_cast<uint64_t>((bytes + flit_bytes - 1) / flit_bytes));
}

uint64_t TimingParams::to_ps(uint64_t cycles) const {
  return static_cast<uint64_t>(std::llround(static_cast<double>(cycles) * cycle_ps));
}

CostTable::CostTable(const ArchSpec& arch) {
  for (size_t i = 0; i < kComponentNames.size(); ++i) {
    auto it = arch.costs.components.find(kComponentNames[i]);
    if (it != arch.costs.components.end()) pj[i] = it->second.energy_pj;
  }
}

}  // namespace cimsim
