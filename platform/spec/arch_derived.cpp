// derive(): every quantity computed from an ArchSpec, in one place. The formulas are
// written out in docs/config.md ("Derived quantities"); keep the two in step.
#include <algorithm>
#include <cmath>

#include "platform/spec/arch.h"
#include "platform/spec/slicing.h"

namespace cimsim {
namespace {

struct Population {
  const char* component;
  double instances;
  double actions_per_s;  // peak, per instance
};

std::vector<Population> populations(const ArchSpec& s) {
  const double cores = s.chip.cores;
  const double pes = cores * s.core.pes;
  const double crossbars = pes * s.pe.crossbars;
  const double cycles_per_s = s.chip.clock_mhz * 1e6;
  const double reads_per_s = 1e9 / s.crossbar.read_ns;
  return {
      {"crossbar", crossbars, reads_per_s},
      {"dac", crossbars * s.crossbar.rows, reads_per_s},
      {"snh", crossbars * s.crossbar.cols, reads_per_s},
      {"adc", pes * s.pe.adcs, 1e9 / s.adc.conversion_ns},
      {"shift_add", pes * s.pe.shift_adds, cycles_per_s},
      {"pe_input_reg", pes, cycles_per_s},
      {"pe_output_reg", pes, cycles_per_s},
      {"buffer", cores, cycles_per_s},
      {"bus", cores, s.core.buffer_bytes_per_cycle * cycles_per_s},
      {"router", cores, 5.0 * s.noc.link_flits_per_cycle * cycles_per_s},
      {"vector_unit", cores, s.core.vector_lanes * cycles_per_s},
      {"scalar_unit", cores, cycles_per_s},
      {"core_output_reg", cores, cycles_per_s},
      {"memory", 1, s.memory.bandwidth_gb_per_s * 1e9},
  };
}

}  // namespace

ArchDerived derive(const ArchSpec& s) {
  ArchDerived d;
  d.cycle_ns = 1000.0 / s.chip.clock_mhz;
  d.crossbars_per_core = int64_t{s.core.pes} * s.pe.crossbars;
  d.crossbars_per_chip = d.crossbars_per_core * s.chip.cores;
  d.cells_per_weight = slicing::cells_per_weight(s.quantization.weight_bits,
                                                 s.crossbar.cell_bits, s.crossbar.encoding);
  d.weight_cols_per_crossbar = s.crossbar.cols / d.cells_per_weight;
  d.input_steps = slicing::input_steps(s.quantization.activation_bits, s.dac.bits);
  const int64_t physical_cols = int64_t{d.weight_cols_per_crossbar} * d.cells_per_weight;
  d.adc_conversions_per_mvm = int64_t{d.input_steps} * physical_cols;

  // One crossbar alone: its A = adcs / crossbars ADCs (at least one) convert its P columns.
  const int64_t adcs_per_crossbar = std::max(1, s.pe.adcs / s.pe.crossbars);
  const int64_t conversions_per_adc = (physical_cols + adcs_per_crossbar - 1) / adcs_per_crossbar;
  const double step_ns =
      std::max(s.crossbar.read_ns, conversions_per_adc * s.adc.conversion_ns);
  d.mvm_latency_ns = s.crossbar.read_ns + d.input_steps * step_ns;

  // All crossbars at once: when a PE has fewer ADCs than crossbars, the busiest ADC serves
  // ceil(crossbars / adcs) of them and their conversions serialize.
  const int64_t crossbars_per_adc =
      s.pe.adcs < s.pe.crossbars ? (s.pe.crossbars + s.pe.adcs - 1) / s.pe.adcs : 1;
  const double peak_step_ns = std::max(
      s.crossbar.read_ns, crossbars_per_adc * conversions_per_adc * s.adc.conversion_ns);
  const double macs_per_mvm = double(s.crossbar.rows) * d.weight_cols_per_crossbar;
  d.peak_macs_per_s =
      d.crossbars_per_chip * macs_per_mvm / (d.input_steps * peak_step_ns * 1e-9);

  for (const Population& p : populations(s)) {
    const ComponentCost& c = s.costs.at(p.component);
    const double area = p.instances * c.area_um2;
    // pJ * (1/s) = 1e-12 W = 1e-9 mW
    const double power = p.instances * (c.leakage_mw + c.energy_pj * p.actions_per_s * 1e-9);
    d.area_um2_by_component[p.component] = area;
    d.peak_power_mw_by_component[p.component] = power;
    d.area_um2 += area;
    d.peak_power_mw += power;
  }
  return d;
}

}  // namespace cimsim
