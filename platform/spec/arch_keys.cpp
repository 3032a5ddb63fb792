// The key registry: every configs/*.yaml key with its type, unit, default, range and meaning.
#include "platform/spec/arch_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace cimsim {

const ComponentCost& CostSpec::at(const std::string& name) const {
  auto it = components.find(name);
  if (it == components.end()) throw std::out_of_range("unknown cost component '" + name + "'");
  return it->second;
}

namespace arch_keys {
namespace {

constexpr const char* kRequired = nullptr;

void assign(int& dst, const Value& v) { dst = static_cast<int>(v.i); }
void assign(int64_t& dst, const Value& v) { dst = v.i; }
void assign(uint64_t& dst, const Value& v) { dst = static_cast<uint64_t>(v.i); }
void assign(double& dst, const Value& v) { dst = v.f; }
void assign(bool& dst, const Value& v) { dst = v.b; }
void assign(std::string& dst, const Value& v) { dst = v.s; }
template <class E, class = std::enable_if_t<std::is_enum_v<E>>>
void assign(E& dst, const Value& v) {
  dst = static_cast<E>(v.i);
}

Value to_value(int x) { Value v; v.i = x; return v; }
Value to_value(int64_t x) { Value v; v.i = x; return v; }
Value to_value(uint64_t x) { Value v; v.i = static_cast<int64_t>(x); return v; }
Value to_value(double x) { Value v; v.f = x; return v; }
Value to_value(bool x) { Value v; v.b = x; return v; }
Value to_value(const std::string& x) { Value v; v.s = x; return v; }
template <class E, class = std::enable_if_t<std::is_enum_v<E>>>
Value to_value(E x) {
  Value v;
  v.i = static_cast<int64_t>(x);
  return v;
}

template <class S, class T>
KeyDef key(const char* section, const char* name, KeyType type, const char* unit,
           const char* default_yaml, double lo, double hi, const char* meaning,
           S ArchSpec::*sec, T S::*member) {
  KeyDef d{section, name, type, unit, default_yaml, lo, hi, false, {}, meaning, true, {}, {}};
  d.set = [sec, member](ArchSpec& a, const Value& v) { assign((a.*sec).*member, v); };
  d.get = [sec, member](const ArchSpec& a) { return to_value((a.*sec).*member); };
  return d;
}

KeyDef with_choices(KeyDef d, std::vector<std::string> choices) {
  d.choices = std::move(choices);
  return d;
}
KeyDef open_min(KeyDef d) {
  d.min_exclusive = true;
  return d;
}
KeyDef no_fingerprint(KeyDef d) {
  d.affects_compilation = false;
  return d;
}

std::vector<KeyDef> build_keys() {
  using K = KeyType;
  std::vector<KeyDef> k;
  // chip
  k.push_back(no_fingerprint(key("chip", "name", K::kString, "", "\"\"", 0, 0,
      "free-form name printed in reports", &ArchSpec::chip, &ChipSpec::name)));
  k.push_back(key("chip", "cores", K::kInt, "", kRequired, 1, 65536,
      "cores (ISAAC: tiles) on the chip", &ArchSpec::chip, &ChipSpec::cores));
  k.push_back(key("chip", "mesh_rows", K::kInt, "", "1", 1, 1024,
      "rows of the 2-D mesh NoC; core i sits at row i / mesh_cols", &ArchSpec::chip,
      &ChipSpec::mesh_rows));
  k.push_back(key("chip", "mesh_cols", K::kInt, "", "1", 1, 1024,
      "columns of the 2-D mesh NoC; core i sits at column i % mesh_cols", &ArchSpec::chip,
      &ChipSpec::mesh_cols));
  k.push_back(open_min(key("chip", "clock_mhz", K::kFloat, "MHz", "1000", 0, 100000,
      "the one digital clock; cycle_ns = 1000 / clock_mhz", &ArchSpec::chip,
      &ChipSpec::clock_mhz)));
  // core
  k.push_back(key("core", "pes", K::kInt, "", "1", 1, 4096,
      "PEs (ISAAC: IMAs) per core", &ArchSpec::core, &CoreSpec::pes));
  k.push_back(key("core", "buffer_bytes", K::kInt, "B", "65536", 1, 1099511627776.0,
      "local buffer (ISAAC: eDRAM) capacity", &ArchSpec::core, &CoreSpec::buffer_bytes));
  // Cost-only keys, like adc.cost_scaling: they change costs.buffer, not the compiled program.
  k.push_back(no_fingerprint(with_choices(key("core", "buffer_cost_scaling", K::kEnum, "", "none",
      0, 0,
      "how costs.buffer follows buffer_bytes: not at all (none: the figure is for buffer_bytes), "
      "or puma_edram: energy x (buffer_bytes / buffer_cost_reference_bytes)^0.56, area and "
      "leakage x the same ratio^0.49, a power law fitted to PUMA's eDRAM at 64 and 128 KB, "
      "accepted at 4 KB..1 MB (docs/config.md, \"Buffer capacity scaling\"); the access width "
      "and latency are not scaled",
      &ArchSpec::core, &CoreSpec::buffer_cost_scaling), {"none", "puma_edram"})));
  k.push_back(no_fingerprint(key("core", "buffer_cost_reference_bytes", K::kInt, "B", "0", 0,
      1099511627776.0,
      "the capacity costs.buffer is given at; 0 with buffer_cost_scaling none, 4096..1048576 "
      "with puma_edram (ISAAC: 65536)", &ArchSpec::core, &CoreSpec::buffer_cost_reference_bytes)));
  k.push_back(key("core", "buffer_bytes_per_cycle", K::kInt, "B/cycle", "32", 1, 65536,
      "local buffer port width (ISAAC: 256-bit bus)", &ArchSpec::core,
      &CoreSpec::buffer_bytes_per_cycle));
  k.push_back(key("core", "buffer_ports", K::kInt, "", "1", 1, 64,
      "independent local buffer ports, each buffer_bytes_per_cycle wide; a transfer takes "
      "the one free soonest (ISAAC: 1, one 256-bit eDRAM bus)", &ArchSpec::core,
      &CoreSpec::buffer_ports));
  k.push_back(key("core", "vector_lanes", K::kInt, "elements/cycle", "32", 1, 65536,
      "vector unit throughput", &ArchSpec::core, &CoreSpec::vector_lanes));
  k.push_back(key("core", "vector_pipeline_cycles", K::kInt, "cycles", "2", 0, 1000,
      "vector unit fixed latency", &ArchSpec::core, &CoreSpec::vector_pipeline_cycles));
  k.push_back(key("core", "dispatch_queue_depth", K::kInt, "instructions", "8", 1, 1024,
      "entries of each unit's in-order queue; dispatch stalls while it is full",
      &ArchSpec::core, &CoreSpec::dispatch_queue_depth));
  // pe
  k.push_back(key("pe", "crossbars", K::kInt, "", "8", 1, 4096,
      "crossbars per PE", &ArchSpec::pe, &PeSpec::crossbars));
  k.push_back(key("pe", "adcs", K::kInt, "", "8", 1, 4096,
      "ADCs per PE; crossbar k uses ADC k mod adcs", &ArchSpec::pe, &PeSpec::adcs));
  k.push_back(key("pe", "shift_adds", K::kInt, "", "4", 1, 4096,
      "shift-and-add units per PE", &ArchSpec::pe, &PeSpec::shift_adds));
  k.push_back(no_fingerprint(with_choices(key("pe", "shift_add_model", K::kEnum, "", "tlm", 0, 0,
      "what computes an MVM's shift-and-add: the C++ model (tlm) or the Verilated RTL of "
      "models/rtl (rtl; needs a cimsim built with Verilator, docs/cosim.md); same values",
      &ArchSpec::pe, &PeSpec::shift_add_model), {"tlm", "rtl"})));
  k.push_back(no_fingerprint(key("pe", "shift_add_latency_cycles", K::kInt, "cycles", "0", 0, 1000000,
      "tlm model: cycles from an MVM's last ADC conversion to its shift-and-add result (the "
      "rtl model measures its own from its handshake; the bundled RTL takes 1)",
      &ArchSpec::pe, &PeSpec::shift_add_latency_cycles)));
  // crossbar
  k.push_back(no_fingerprint(with_choices(key("crossbar", "technology", K::kEnum, "", "reram",
      0, 0, "memristor crossbar (reram, costs from `costs`) or SRAM IMC macro, analog "
      "(sram_aimc) or digital (sram_dimc), whose crossbar/dac/snh/adc/shift_add costs and "
      "read_ns/conversion_ns not given explicitly come from the ZigZag-IMC model "
      "(section sram); SRAM needs cell_bits 1, DIMC adc.lossless",
      &ArchSpec::crossbar, &CrossbarSpec::technology), {"reram", "sram_aimc", "sram_dimc"})));
  k.push_back(key("crossbar", "rows", K::kInt, "", kRequired, 1, 4096,
      "word lines (inputs) per crossbar", &ArchSpec::crossbar, &CrossbarSpec::rows));
  k.push_back(key("crossbar", "cols", K::kInt, "", kRequired, 1, 4096,
      "bit lines (physical columns) per crossbar", &ArchSpec::crossbar, &CrossbarSpec::cols));
  k.push_back(key("crossbar", "cell_bits", K::kInt, "bits", kRequired, 1, 8,
      "bits stored per cell", &ArchSpec::crossbar, &CrossbarSpec::cell_bits));
  k.push_back(with_choices(key("crossbar", "encoding", K::kEnum, "", "offset", 0, 0,
      "signed weights as w + 2^(Bw-1) (offset) or a positive/negative column pair "
      "(differential)", &ArchSpec::crossbar, &CrossbarSpec::encoding),
      {"offset", "differential"}));
  k.push_back(key("crossbar", "weight_flip", K::kBool, "", "false", 0, 0,
      "ISAAC's trick: a column whose level sum exceeds half stores 2^c-1-g",
      &ArchSpec::crossbar, &CrossbarSpec::weight_flip));
  k.push_back(key("crossbar", "g_min_us", K::kFloat, "uS", "1", 0, 1e6,
      "conductance of level 0", &ArchSpec::crossbar, &CrossbarSpec::g_min_us));
  k.push_back(open_min(key("crossbar", "g_max_us", K::kFloat, "uS", "100", 0, 1e6,
      "conductance of the top level; must exceed g_min_us", &ArchSpec::crossbar,
      &CrossbarSpec::g_max_us)));
  k.push_back(open_min(key("crossbar", "read_ns", K::kFloat, "ns", "100", 0, 1e9,
      "one input step: DAC drive, settle, sample-and-hold", &ArchSpec::crossbar,
      &CrossbarSpec::read_ns)));
  k.push_back(key("crossbar", "write_ns_per_row", K::kFloat, "ns", "1000", 0, 1e12,
      "programming time per row (weight reloads)", &ArchSpec::crossbar,
      &CrossbarSpec::write_ns_per_row));
  // sram: only read when crossbar.technology is sram_aimc / sram_dimc; changes costs only
  auto sr = [](KeyDef d) { return no_fingerprint(std::move(d)); };
  k.push_back(sr(open_min(key("sram", "vdd_v", K::kFloat, "V", "0.9", 0, 2,
      "macro supply; energies scale with VDD^2 (ZigZag-IMC gate delays stay at 0.9 V)",
      &ArchSpec::sram, &SramSpec::vdd_v))));
  k.push_back(sr(key("sram", "tech_node_nm", K::kFloat, "nm", "28", 5, 180,
      "node; area and logic/bitline energy scale linearly from the 28 nm calibration, ADC/DAC "
      "energy does not (ZigZag-IMC validation scripts)", &ArchSpec::sram,
      &SramSpec::tech_node_nm)));
  k.push_back(sr(open_min(key("sram", "cell_area_um2_per_bit", K::kFloat, "um2", "0.254", 0,
      100, "6T cell array area per stored bit incl. periphery, at 28 nm; default: ZigZag-IMC's "
      "CACTI figure for a 16 kbit 28 nm array (dimc_validation4.py: 0.00416728 mm2 / 16384 b)",
      &ArchSpec::sram, &SramSpec::cell_area_um2_per_bit))));
  k.push_back(sr(key("sram", "group_depth", K::kInt, "", "1", 1, 1024,
      "SRAM cells sharing one multiplier (stored weight sets; adds cell area only, the mapper "
      "uses one)", &ArchSpec::sram, &SramSpec::group_depth)));
  k.push_back(sr(key("sram", "input_toggle_rate", K::kFloat, "fraction", "1", 0, 1,
      "input bits that toggle per cycle; scales multiplier and DIMC adder-tree energy "
      "(1 = ZigZag-IMC's peak model; its chip validation assumes 0.5)", &ArchSpec::sram,
      &SramSpec::input_toggle_rate)));
  k.push_back(sr(key("sram", "weight_sparsity", K::kFloat, "fraction", "0", 0, 0.99,
      "zero weight bits; scales multiplier, DIMC adder-tree, AIMC bitline and ADC energy by "
      "(1 - sparsity) (0 = peak; ZigZag-IMC's chip validation assumes 0.5)", &ArchSpec::sram,
      &SramSpec::weight_sparsity)));
  // dac
  k.push_back(key("dac", "bits", K::kInt, "bits", "1", 1, 8,
      "input bits applied per step; at most quantization.activation_bits", &ArchSpec::dac,
      &DacSpec::bits));
  // Cost-only keys, like adc.cost_scaling: they change costs.dac, not the compiled program.
  k.push_back(no_fingerprint(with_choices(key("dac", "cost_scaling", K::kEnum, "", "none", 0, 0,
      "how costs.dac follows dac.bits: not at all (none: the figure is for dac.bits), or "
      "mnsim: energy and leakage x P(bits) / P(cost_reference_bits), area x A(bits) / "
      "A(cost_reference_bits), from MNSIM's ISAAC-scaled DAC table at 1, 2, 4, 6 bits (3 and 5 "
      "interpolated geometrically; docs/config.md, \"Converter resolution scaling\"); "
      "crossbar.read_ns is not scaled",
      &ArchSpec::dac, &DacSpec::cost_scaling), {"none", "mnsim"})));
  k.push_back(no_fingerprint(key("dac", "cost_reference_bits", K::kInt, "bits", "0", 0, 8,
      "the resolution costs.dac is given at; 0 with cost_scaling none, 1..6 with mnsim "
      "(ISAAC: 1)", &ArchSpec::dac, &DacSpec::cost_reference_bits)));
  // adc
  k.push_back(key("adc", "bits", K::kInt, "bits", kRequired, 1, 16,
      "resolution; counts above 2^bits-1 clip unless lossless", &ArchSpec::adc,
      &AdcSpec::bits));
  k.push_back(with_choices(key("adc", "range", K::kEnum, "", "lsb_aligned", 0, 0,
      "full-scale policy: one count per cell-current LSB (lsb_aligned), the largest "
      "possible column sum (worst_case), or from calibration data (calibrated)",
      &ArchSpec::adc, &AdcSpec::range),
      {"lsb_aligned", "worst_case", "calibrated"}));
  k.push_back(key("adc", "lossless", K::kBool, "", "false", 0, 0,
      "ideal ADC: counts never clip (bit-exact runs)", &ArchSpec::adc, &AdcSpec::lossless));
  k.push_back(open_min(key("adc", "conversion_ns", K::kFloat, "ns", "0.78125", 0, 1e6,
      "one conversion (ISAAC: 1.28 GS/s)", &ArchSpec::adc, &AdcSpec::conversion_ns)));
  // Cost-only keys, like section sram: they change costs.adc, not the compiled program.
  k.push_back(no_fingerprint(with_choices(key("adc", "cost_scaling", K::kEnum, "", "none", 0, 0,
      "how costs.adc follows adc.bits: not at all (none: the figure is for adc.bits), or "
      "saberi_sar: energy and leakage x E(bits) / E(cost_reference_bits), area x A(bits) / "
      "A(cost_reference_bits), from HWC's ISAAC SAR table at 4..10 bits (docs/config.md, "
      "\"Converter resolution scaling\"); conversion_ns is not scaled",
      &ArchSpec::adc, &AdcSpec::cost_scaling), {"none", "saberi_sar"})));
  k.push_back(no_fingerprint(key("adc", "cost_reference_bits", K::kInt, "bits", "0", 0, 16,
      "the resolution costs.adc is given at; 0 with cost_scaling none, 4..10 with saberi_sar "
      "(ISAAC: 8)", &ArchSpec::adc, &AdcSpec::cost_reference_bits)));
  // noc
  k.push_back(key("noc", "flit_bytes", K::kInt, "B", "4", 1, 4096,
      "flit width (ISAAC: 32 bits)", &ArchSpec::noc, &NocSpec::flit_bytes));
  k.push_back(key("noc", "hop_latency_cycles", K::kInt, "cycles", "1", 0, 1000,
      "router + link traversal of a head flit", &ArchSpec::noc, &NocSpec::hop_latency_cycles));
  k.push_back(key("noc", "link_flits_per_cycle", K::kInt, "flits/cycle", "1", 1, 64,
      "link bandwidth", &ArchSpec::noc, &NocSpec::link_flits_per_cycle));
  k.push_back(key("noc", "rx_channel_bytes", K::kInt, "B", "16384", 0, 1099511627776.0,
      "receive buffer a core's NIC holds per sending core (end-to-end credits): a send enters "
      "the network only when its message fits, and a recv frees the space; 0 = unbounded, "
      "otherwise at least 256 (the compiler splits longer rows into messages of this size)",
      &ArchSpec::noc, &NocSpec::rx_channel_bytes));
  // memory
  k.push_back(key("memory", "capacity_bytes", K::kInt, "B", "1073741824", 1,
      1125899906842624.0, "global (off-chip) memory capacity", &ArchSpec::memory,
      &MemorySpec::capacity_bytes));
  k.push_back(open_min(key("memory", "bandwidth_gb_per_s", K::kFloat, "GB/s", "6.4", 0, 1e6,
      "global memory bandwidth (ISAAC: HyperTransport, 6.4 GB/s)", &ArchSpec::memory,
      &MemorySpec::bandwidth_gb_per_s)));
  k.push_back(key("memory", "latency_ns", K::kFloat, "ns", "100", 0, 1e9,
      "fixed access latency", &ArchSpec::memory, &MemorySpec::latency_ns));
  k.push_back(key("memory", "attach_core", K::kInt, "", "0", 0, 65535,
      "mesh node whose router connects to global memory; < chip.cores", &ArchSpec::memory,
      &MemorySpec::attach_core));
  k.push_back(key("memory", "queue_depth", K::kInt, "requests", "32", 1, 65536,
      "requests the memory controller holds at once (accepted, not yet done); a request that "
      "finds it full waits (back-pressure: a load's NIC stalls, a store waits at the memory)",
      &ArchSpec::memory, &MemorySpec::queue_depth));
  // quantization
  k.push_back(key("quantization", "weight_bits", K::kInt, "bits", "8", 2, 8,
      "signed symmetric weight codes", &ArchSpec::quantization, &QuantSpec::weight_bits));
  k.push_back(key("quantization", "activation_bits", K::kInt, "bits", "8", 2, 8,
      "activation codes; unsigned when the producer is provably non-negative",
      &ArchSpec::quantization, &QuantSpec::activation_bits));
  k.push_back(with_choices(key("quantization", "weight_granularity", K::kEnum, "",
      "per_channel", 0, 0, "one weight scale per output channel or per tensor",
      &ArchSpec::quantization, &QuantSpec::weight_granularity),
      {"per_tensor", "per_channel"}));
  k.push_back(key("quantization", "requant_shift_max", K::kInt, "bits", "31", 0, 62,
      "largest right shift a requantization may use", &ArchSpec::quantization,
      &QuantSpec::requant_shift_max));
  k.push_back(key("quantization", "bfp_block", K::kInt, "elements", "0", 0, 4096,
      "block floating point: 0 = integer codes; B > 0 = each B inputs along the dot product "
      "and the B weights of a column facing them share an exponent, mantissas are the signed "
      "weight_bits / activation_bits codes; B <= crossbar.rows. Kernel level only (cimsim "
      "bfp-error); compile rejects it", &ArchSpec::quantization, &QuantSpec::bfp_block));
  k.push_back(key("quantization", "bfp_exponent_bits", K::kInt, "bits", "8", 2, 16,
      "bits of a block's shared exponent: range [-2^(e-1), 2^(e-1)-1] (larger magnitudes "
      "saturate the mantissas, smaller ones underflow)", &ArchSpec::quantization,
      &QuantSpec::bfp_exponent_bits));
  // nonideality: changes results, not the compiled program
  auto ni = [](KeyDef d) { return no_fingerprint(std::move(d)); };
  k.push_back(ni(key("nonideality", "programming_noise_sigma", K::kFloat, "of g_max-g_min",
      "0", 0, 1, "Gaussian programming error per cell, drawn once", &ArchSpec::nonideality,
      &NonidealitySpec::programming_noise_sigma)));
  k.push_back(ni(key("nonideality", "read_noise_sigma", K::kFloat, "of g_max-g_min", "0", 0,
      1, "Gaussian read noise per cell per MVM", &ArchSpec::nonideality,
      &NonidealitySpec::read_noise_sigma)));
  k.push_back(ni(key("nonideality", "stuck_on_fraction", K::kFloat, "fraction", "0", 0, 1,
      "cells stuck at g_max", &ArchSpec::nonideality, &NonidealitySpec::stuck_on_fraction)));
  k.push_back(ni(key("nonideality", "stuck_off_fraction", K::kFloat, "fraction", "0", 0, 1,
      "cells stuck at g_min", &ArchSpec::nonideality, &NonidealitySpec::stuck_off_fraction)));
  k.push_back(ni(key("nonideality", "conductance_levels", K::kInt, "", "0", 0, 65536,
      "0: exactly 2^cell_bits levels; else the programmable levels (>= 2)",
      &ArchSpec::nonideality, &NonidealitySpec::conductance_levels)));
  k.push_back(ni(key("nonideality", "adc_offset_lsb", K::kFloat, "LSB", "0", -65536, 65536,
      "added to every conversion before rounding", &ArchSpec::nonideality,
      &NonidealitySpec::adc_offset_lsb)));
  k.push_back(ni(key("nonideality", "adc_gain_error", K::kFloat, "relative", "0", -1, 1,
      "0.01 = +1 % gain", &ArchSpec::nonideality, &NonidealitySpec::adc_gain_error)));
  k.push_back(ni(key("nonideality", "seed", K::kInt, "", "1", 0, 4294967295.0,
      "random seed; same seed, same bits", &ArchSpec::nonideality, &NonidealitySpec::seed)));
  // calibration: what `cimsim calibrate` tunes (docs/calibration.md); not the machine itself
  k.push_back(no_fingerprint(key("calibration", "adc_full_scale", K::kBool, "", "true", 0, 0,
      "calibrate searches each layer's ADC full scale (the tuned arch uses adc.range: calibrated)",
      &ArchSpec::calibration, &CalibrationSpec::adc_full_scale)));
  k.push_back(no_fingerprint(key("calibration", "full_scale_points", K::kInt, "", "12", 2, 64,
      "full-scale candidates per layer, geometric from 2^adc.bits-1 (one count per level) to "
      "the worst case", &ArchSpec::calibration, &CalibrationSpec::full_scale_points)));
  k.push_back(no_fingerprint(key("calibration", "passes", K::kInt, "", "1", 1, 8,
      "sweeps over the layers, each layer in network order given the others' current values",
      &ArchSpec::calibration, &CalibrationSpec::passes)));
  k.push_back(no_fingerprint(key("calibration", "adc_offset", K::kBool, "", "false", 0, 0,
      "calibrate also searches each layer's ADC offset correction (TileDesc::adc_offset_lsb, "
      "subtracted before rounding), after its full scale; pays where nonideality.adc_offset_lsb != 0",
      &ArchSpec::calibration, &CalibrationSpec::adc_offset)));
  k.push_back(no_fingerprint(key("calibration", "offset_points", K::kInt, "", "9", 2, 257,
      "offset candidates per layer, evenly spaced over +-offset_range_lsb (9: steps of 1/4 of the range)",
      &ArchSpec::calibration, &CalibrationSpec::offset_points)));
  k.push_back(no_fingerprint(key("calibration", "offset_range_lsb", K::kFloat, "LSB", "1", 0.0625, 64,
      "half-width of the offset candidates' range", &ArchSpec::calibration,
      &CalibrationSpec::offset_range_lsb)));
  return k;
}

ComponentCost cost(double energy_pj, double leakage_mw, double area_um2, const char* source) {
  return ComponentCost{energy_pj, leakage_mw, area_um2, source};
}

// ISAAC-CE 32 nm (ISCA 2016 Table I, as rebuilt in /work/shared/reference/component-costs.md).
// The table gives power at full activity; each energy is that power divided by the peak
// action rate of configs/isaac.yaml (1280 MHz clock, 100 ns read, 1.28 GS/s ADC, 32 B/cycle
// buffer, 32 vector lanes, 5-port routers), so that derive() reproduces the table's power.
std::vector<CostComponentDef> build_costs() {
  return {
      {"crossbar", "one input step of one crossbar", "cores * pes * crossbars",
       "1 / read_ns",
       cost(30.0, 0, 25.0,
            "ISAAC-CE Table I via PUMA xbar_*['128']: 8 arrays 2.4 mW, 0.0002 mm2; "
            "0.3 mW / (1 / 100 ns) = 30 pJ")},
      {"dac", "one row drive", "cores * pes * crossbars * rows", "1 / read_ns",
       cost(0.390625, 0, 0.166015625,
            "ISAAC-CE Table I via HWC/MN/PUMA: 8x128 1-bit DACs 4 mW, 0.00017 mm2; "
            "3.90625 uW / (1 / 100 ns) = 0.390625 pJ")},
      {"snh", "one column sample", "cores * pes * crossbars * cols", "1 / read_ns",
       cost(0.0009765625, 0, 0.0390625,
            "ISAAC-CE Table I via PUMA snh_*: 8x128 S&H 10 uW, 0.00004 mm2; "
            "9.765625 nW / (1 / 100 ns) = 0.0009765625 pJ")},
      {"adc", "one conversion", "cores * pes * adcs", "1 / conversion_ns",
       cost(1.5625, 0, 1200.0,
            "ISAAC-CE Table I via HWC/MN/PUMA: 8 ADCs (8 b, 1.28 GS/s) 16 mW, 0.0096 mm2; "
            "2 mW / 1.28 GS/s = 1.5625 pJ")},
      {"shift_add", "one column partial sum", "cores * pes * shift_adds", "clock_mhz * 1e6",
       cost(0.0390625, 0, 60.0,
            "ISAAC-CE Table I via HWC IsaacShiftAdd: 4 S+A 0.2 mW, 0.00024 mm2; "
            "0.05 mW / 1280 MHz = 0.0390625 pJ")},
      {"pe_input_reg", "one access", "cores * pes", "clock_mhz * 1e6",
       cost(0.96875, 0, 2100.0,
            "ISAAC-CE Table I via AtomLayer: IMA input register 2 KB 1.24 mW, 0.0021 mm2; "
            "1.24 mW / 1280 MHz = 0.96875 pJ")},
      {"pe_output_reg", "one access", "cores * pes", "clock_mhz * 1e6",
       cost(0.1796875, 0, 770.0,
            "ISAAC-CE Table I (unconfirmed row): IMA output register 256 B 0.23 mW, "
            "0.00077 mm2; 0.23 mW / 1280 MHz = 0.1796875 pJ")},
      {"buffer", "one access of buffer_bytes_per_cycle bytes", "cores", "clock_mhz * 1e6",
       cost(16.171875, 0, 83000.0,
            "ISAAC-CE Table I via HWC: eDRAM 64 KB 20.7 mW, 0.083 mm2; "
            "20.7 mW / 1280 MHz = 16.171875 pJ per 32-B access")},
      {"bus", "one byte", "cores", "buffer_bytes_per_cycle * clock_mhz * 1e6",
       cost(0.1708984375, 0, 90000.0,
            "ISAAC-CE Table I via HWC/PUMA: eDRAM-IMA bus 7 mW, 0.090 mm2; "
            "7 mW / (32 B * 1280 MHz) = 0.1708984375 pJ/B")},
      {"router", "one flit per hop", "cores",
       "5 * link_flits_per_cycle * clock_mhz * 1e6",
       cost(1.640625, 0, 37500.0,
            "ISAAC-CE Table I via HWC IsaacRouter: 42 mW, 0.151 mm2 shared by 4 tiles -> "
            "10.5 mW, 0.0375 mm2 per tile; 10.5 mW / (5 ports * 1280 MHz) = 1.640625 pJ")},
      {"vector_unit", "one element op", "cores", "vector_lanes * clock_mhz * 1e6",
       cost(0.023681640625, 0, 900.0,
            "ISAAC-CE Table I via PUMA act_*/sna_*: sigmoid 0.52 + S+A 0.05 + max-pool "
            "(unconfirmed) 0.4 = 0.97 mW, 600+60+240 um2; 0.97 mW / (32 lanes * 1280 MHz) "
            "= 0.023681640625 pJ")},
      {"scalar_unit", "one instruction", "cores", "clock_mhz * 1e6",
       cost(0.0, 0, 0.0,
            "not itemized in ISAAC-CE Table I (tile control is folded into other rows): 0")},
      {"core_output_reg", "one access", "cores", "clock_mhz * 1e6",
       cost(1.3125, 0, 3200.0,
            "ISAAC-CE Table I (unconfirmed row): tile output register 3 KB 1.68 mW, "
            "0.0032 mm2; 1.68 mW / 1280 MHz = 1.3125 pJ")},
      {"memory", "one byte to or from global memory", "1",
       "bandwidth_gb_per_s * 1e9",
       cost(1625.0, 0, 22880000.0,
            "ISAAC-CE Table I via PUMA noc_inter_*: HyperTransport 4 links 10.4 W, 22.88 mm2; "
            "charged per byte moved: 10.4 W / 6.4 GB/s = 1625 pJ/B")},
      {"crossbar_write", "one cell programmed", "none (no area, no peak rate)", "none",
       cost(120.0, 0, 0.0,
            "[derived] CiMLoop rram_isaac_isca_2016.cell.yaml (from PRIME): set 2 V for 40 ns "
            "into Ron 1.333 kOhm: 2^2 / 1333 * 40 ns = 120 pJ (LRS, upper bound)")},
  };
}

}  // namespace

const std::vector<KeyDef>& arch_keys() {
  static const std::vector<KeyDef> keys = build_keys();
  return keys;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& k : arch_keys())
      if (std::find(n.begin(), n.end(), k.section) == n.end()) n.push_back(k.section);
    n.push_back("costs");
    return n;
  }();
  return names;
}

const std::vector<CostComponentDef>& cost_components() {
  static const std::vector<CostComponentDef> defs = build_costs();
  return defs;
}

const std::vector<std::string>& cost_fields() {
  static const std::vector<std::string> f = {"energy_pj", "leakage_mw", "area_um2", "source"};
  return f;
}

std::string format_value(const KeyDef& def, const Value& v) {
  switch (def.type) {
    case KeyType::kInt: return fmt::format("{}", v.i);
    case KeyType::kFloat: return fmt::format("{}", v.f);
    case KeyType::kBool: return v.b ? "true" : "false";
    case KeyType::kEnum:
      if (v.i >= 0 && static_cast<size_t>(v.i) < def.choices.size()) return def.choices[v.i];
      return fmt::format("<invalid {}>", v.i);
    case KeyType::kString: return fmt::format("\"{}\"", v.s);
  }
  return "";
}

std::string format_range(const KeyDef& def) {
  auto num = [&](double x) {
    if (def.type == KeyType::kInt) return fmt::format("{}", static_cast<int64_t>(x));
    return fmt::format("{}", x);
  };
  std::string r = fmt::format("{}{}, {}]", def.min_exclusive ? "(" : "[", num(def.min),
                              num(def.max));
  if (!def.unit.empty()) r += " " + def.unit;
  return r;
}

std::string type_name(KeyType t) {
  switch (t) {
    case KeyType::kInt: return "int";
    case KeyType::kFloat: return "float";
    case KeyType::kBool: return "bool";
    case KeyType::kEnum: return "enum";
    case KeyType::kString: return "string";
  }
  return "";
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = std::numeric_limits<int>::max();
  for (const auto& c : candidates) {
    int d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A plausible typo changes at most about a third of the word.
  int limit = std::max(2, static_cast<int>(std::max(word.size(), best.size()) / 3));
  return best_d <= limit ? best : "";
}

}  // namespace arch_keys
}  // namespace cimsim
