// report.json: the run's figures (latency, energy, area, utilization, simulator speed).
//
// Contract: build_report() turns the counters of one finished run plus the arch spec, its
// derived quantities and the program into the JSON documented key by key in docs/report.md.
// report["layers"] gives per layer (program order, by_layer's names) its time span, busy time and
// instructions from RunStats::layer_times (LayerTimes: the energy ledger's layer attribution).
// Breakdowns add up to their totals by construction: energy_pj.by_component and
// energy_pj.by_layer (leakage as its own "leakage" entry) both sum to energy_pj.total, and
// area_um2.by_component sums to area_um2.total. Leakage energy of a component is
// instances * leakage_mw * latency_ns (mW * ns = pJ), with instances as derive() counts them.
// This module knows nothing about SystemC: platform/vp copies the chip's counters into RunStats.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/spec/arch.h"
#include "platform/spec/isa.h"
#include "traces/energy_ledger.h"
#include "traces/layer_times.h"

namespace cimsim {

struct RunStats {
  uint64_t end_ps = 0;  // simulated time when the whole batch was done
  int batch = 1;
  uint64_t instructions_executed = 0;
  std::vector<uint64_t> core_instructions, core_busy_ps, core_finish_ps;
  std::vector<std::vector<uint64_t>> crossbar_busy_ps;  // [core][pe * crossbars + xbar]
  EnergyLedger energy;                                  // dynamic energy only
  std::vector<LayerTime> layer_times;                   // per Program::layers index
  uint64_t mvms = 0, adc_conversions = 0, adc_saturations = 0, flit_hops = 0, memory_bytes = 0;
  uint64_t macs = 0;  // multiply-accumulates done by crossbars (tile rows * cols per mvm)
  // Back-pressure (docs/timing.md): summed waits of messages for receive-channel credits and
  // of memory requests for a controller queue entry; the fullest receive channel, bytes.
  uint64_t credit_wait_ps = 0, memory_queue_wait_ps = 0, rx_peak_channel_bytes = 0;
  uint64_t rtl_cycles = 0;  // clock cycles the RTL co-simulation models ran (docs/cosim.md)
};

// Instances of each cost component on the chip, as derive() counts them: taken from
// derived.area_um2_by_component / cost.area_um2 where both are positive, otherwise from the
// structural count (crossbars, ADCs, ... per chip) documented in docs/report.md.
std::map<std::string, double> component_instances(const ArchSpec& spec, const ArchDerived& derived);

nlohmann::json build_report(const RunStats& stats, const ArchSpec& spec, const ArchDerived& derived,
                            const Program& program, double wall_s);

// The human summary: latency, throughput, energy per inference, TOPS/W, area and the five
// largest energy consumers with their share, read from a report built above.
void print_summary(const nlohmann::json& report, std::ostream& out);

// The per-layer table (`cimsim simulate --layers`): per entry of report["layers"], its start,
// end, span, busy time, instructions and dynamic energy with its share of the total.
void print_layer_table(const nlohmann::json& report, std::ostream& out);

// Peak resident set size of this process so far, in MB (getrusage ru_maxrss).
double peak_rss_mb();

}  // namespace cimsim
