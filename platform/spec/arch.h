// Architecture specification: the typed form of configs/*.yaml.
//
// Contract: an ArchSpec returned by load_arch_spec() has passed every range and
// consistency check (see arch_keys.cpp, the one place that declares each key with its
// unit, default and range). Consumers never re-validate and never read YAML themselves.
// Physical quantities carry their unit in the field name. Figures in `costs` are per
// instance or per action as the field name says; the ISAAC sources are in configs/isaac.yaml.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimsim {

// Thrown for any user-input problem (bad YAML, bad ONNX, bad .npy, bad program). The
// message already starts with "FILE:LINE:COL: " or "FILE: " as applicable; the CLI
// prints it verbatim and exits 1.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class WeightEncoding { kOffset, kDifferential };
enum class AdcRangePolicy { kLsbAligned, kWorstCase, kCalibrated };
// How costs.adc follows adc.bits (converter_cost_scaling.h): not at all, or by the ratio of
// two resolutions in HWC's SAR table (Saberi et al.).
enum class AdcCostScaling { kNone, kSaberiSar };
// How costs.dac follows dac.bits (converter_cost_scaling.h): not at all, or by the ratio of
// two resolutions in MNSIM's ISAAC-scaled DAC table.
enum class DacCostScaling { kNone, kMnsim };
// How costs.buffer follows core.buffer_bytes (buffer_cost_scaling.h): not at all, or by
// PUMA's eDRAM power law fitted to its 64 KB and 128 KB figures.
enum class BufferCostScaling { kNone, kPumaEdram };
enum class QuantGranularity { kPerTensor, kPerChannel };
// Which model computes a PE's shift-and-add (docs/cosim.md): the built-in C++/TLM model, or
// the Verilated RTL of models/rtl (only in a cimsim built with Verilator).
enum class ShiftAddModel { kTlm, kRtl };
// What the crossbar is built from; an SRAM macro's costs come from sram_imc_macro.h.
enum class CrossbarTechnology { kReram, kSramAnalog, kSramDigital };

struct ChipSpec {
  std::string name;
  int cores = 1;
  int mesh_rows = 1;
  int mesh_cols = 1;
  double clock_mhz = 1000.0;  // one clock domain for digital logic; analog times are in ns
};

struct CoreSpec {
  int pes = 1;                          // PEs (ISAAC: IMAs) per core
  int64_t buffer_bytes = 65536;         // local buffer (ISAAC: eDRAM) capacity
  // How costs.buffer follows buffer_bytes, and the capacity it is given at
  // (buffer_cost_scaling.h); kNone (reference 0): costs.buffer is the figure as given.
  BufferCostScaling buffer_cost_scaling = BufferCostScaling::kNone;
  int64_t buffer_cost_reference_bytes = 0;
  int buffer_bytes_per_cycle = 32;      // local buffer port width (ISAAC: 256-bit bus)
  int buffer_ports = 1;                 // independent buffer ports of that width (ISAAC: 1)
  int vector_lanes = 32;                // vector unit elements per cycle
  int vector_pipeline_cycles = 2;       // vector unit fixed latency
  int dispatch_queue_depth = 8;         // instructions a unit may hold before issue stalls
};

struct PeSpec {
  int crossbars = 8;       // crossbars per PE
  int adcs = 8;            // ADCs per PE, shared round-robin by its crossbars
  int shift_adds = 4;      // shift-and-add units per PE
  ShiftAddModel shift_add_model = ShiftAddModel::kTlm;
  // tlm model only: cycles from an MVM's last ADC conversion to its shift-and-add result
  // (the rtl model reports its own, docs/cosim.md).
  int shift_add_latency_cycles = 0;
};

struct CrossbarSpec {
  CrossbarTechnology technology = CrossbarTechnology::kReram;
  int rows = 128;
  int cols = 128;
  int cell_bits = 2;                                  // bits stored per cell (1..8)
  WeightEncoding encoding = WeightEncoding::kOffset;  // how signed weights are stored
  bool weight_flip = false;     // ISAAC trick: store (2^c-1-g) in a column whose sum exceeds half
  double g_min_us = 1.0;        // conductance of level 0, microsiemens
  double g_max_us = 100.0;      // conductance of the top level, microsiemens
  double read_ns = 100.0;       // one input step: DAC drive + settle + sample-and-hold
  double write_ns_per_row = 1000.0;  // programming time per row (weight reloads)
};

// SRAM IMC macro parameters (crossbar.technology sram_aimc / sram_dimc; ignored for ReRAM).
struct SramSpec {
  double vdd_v = 0.9;                   // supply (ZigZag-IMC calibration: 0.9 V)
  double tech_node_nm = 28.0;           // costs scale linearly from the 28 nm calibration
  double cell_area_um2_per_bit = 0.254; // 6T cell array with periphery, at 28 nm
  int group_depth = 1;                  // cells sharing one compute entry (area only)
  double input_toggle_rate = 1.0;       // fraction of input bits that toggle (1: peak)
  double weight_sparsity = 0.0;         // fraction of zero weight bits (0: peak)
};

struct DacSpec {
  int bits = 1;  // input bits applied per step (d)
  // costs.dac is given for a DAC of cost_reference_bits and scaled to `bits` by this rule
  // (converter_cost_scaling.h); kNone (reference 0): costs.dac is the figure at `bits` as given.
  DacCostScaling cost_scaling = DacCostScaling::kNone;
  int cost_reference_bits = 0;
};

struct AdcSpec {
  int bits = 8;
  AdcRangePolicy range = AdcRangePolicy::kLsbAligned;
  bool lossless = false;        // true: ideal ADC, counts never clip (bit-exact runs)
  double conversion_ns = 0.78125;  // one conversion (ISAAC: 1.28 GS/s)
  // costs.adc is given for an ADC of cost_reference_bits and scaled to `bits` by this rule
  // (converter_cost_scaling.h); kNone (reference 0): costs.adc is the figure at `bits` as given.
  AdcCostScaling cost_scaling = AdcCostScaling::kNone;
  int cost_reference_bits = 0;
};

struct NocSpec {
  int flit_bytes = 4;              // ISAAC: 32-bit flits
  int hop_latency_cycles = 1;      // router + link traversal of a head flit
  int link_flits_per_cycle = 1;    // link bandwidth
  // Receive-buffer bytes a core's NIC holds for each sending core (end-to-end credits): a send
  // is admitted into the network only when its message fits; 0 = unbounded (no back-pressure).
  int64_t rx_channel_bytes = 16384;
};
constexpr int64_t kMinRxChannelBytes = 256;  // smallest bounded noc.rx_channel_bytes

struct MemorySpec {
  int64_t capacity_bytes = int64_t{1} << 30;
  double bandwidth_gb_per_s = 6.4;  // ISAAC: HyperTransport link
  double latency_ns = 100.0;
  int attach_core = 0;              // mesh node whose router connects to global memory
  // Requests the memory controller holds at once (accepted, data not yet ready or written);
  // a request finding it full waits for END_REQ (back-pressure). Bounds memory-level
  // parallelism when the latency, not the bandwidth, limits.
  int queue_depth = 32;
};

struct QuantSpec {
  int weight_bits = 8;      // signed symmetric, 2..8
  int activation_bits = 8;  // 2..8; unsigned when the producer proves non-negative (ReLU)
  QuantGranularity weight_granularity = QuantGranularity::kPerChannel;
  int requant_shift_max = 31;
  // Block floating point (shared exponent), docs/functional-model.md "Block floating point":
  // 0 = integer quantization; B > 0 = every B consecutive inputs along the dot product, and
  // the B weights of each column facing them, share one exponent; the mantissas are signed
  // weight_bits / activation_bits codes (sign included) that go through the crossbar.
  int bfp_block = 0;
  int bfp_exponent_bits = 8;  // shared exponent range [-2^(e-1), 2^(e-1)-1]
};

struct NonidealitySpec {
  double programming_noise_sigma = 0.0;  // Gaussian, fraction of (g_max - g_min), per cell, once
  double read_noise_sigma = 0.0;         // Gaussian, fraction of (g_max - g_min), per cell per MVM
  double stuck_on_fraction = 0.0;        // cells stuck at g_max
  double stuck_off_fraction = 0.0;       // cells stuck at g_min
  int conductance_levels = 0;            // 0: exactly 2^cell_bits levels; else programmable levels
  double adc_offset_lsb = 0.0;           // added to every conversion before rounding
  double adc_gain_error = 0.0;           // relative; 0.01 = +1 %
  uint64_t seed = 1;
  bool any() const {
    return programming_noise_sigma > 0 || read_noise_sigma > 0 || stuck_on_fraction > 0 ||
           stuck_off_fraction > 0 || conductance_levels > 0 || adc_offset_lsb != 0 ||
           adc_gain_error != 0;
  }
};

// What `cimsim calibrate` may tune and how finely it searches (docs/calibration.md). These
// keys describe the calibration, not the machine: they are left out of arch_fingerprint().
// A key the section does not know (a tunable cimsim cannot tune) is a load error.
struct CalibrationSpec {
  bool adc_full_scale = true;   // search each layer's ADC full scale (TileDesc::adc_full_scale)
  int full_scale_points = 12;   // candidates per layer, geometric from 2^Ba-1 to the worst case
  int passes = 1;               // sweeps over the layers (coordinate descent)
  // Search each layer's ADC offset correction (TileDesc::adc_offset_lsb) after its full scale,
  // over offset_points candidates evenly spaced in [-offset_range_lsb, +offset_range_lsb].
  bool adc_offset = false;
  int offset_points = 9;
  double offset_range_lsb = 1.0;
};

// One component's cost figures. `energy_pj` is per action (the action is named in
// docs/config.md for each component); `leakage_mw` is static power per instance;
// `area_um2` per instance.
struct ComponentCost {
  double energy_pj = 0.0;
  double leakage_mw = 0.0;
  double area_um2 = 0.0;
  std::string source;  // where the figures come from (paper, tool, derivation)
};

// Component names are fixed (see cost_components() in arch_keys.cpp and docs/config.md):
// crossbar (per crossbar input step), dac (per row drive), snh (per column sample),
// adc (per conversion), shift_add (per column partial sum), pe_input_reg / pe_output_reg
// (per access, i.e. per cycle the register port is used), buffer (per buffer_bytes_per_cycle
// access), bus (per byte), router (per flit per hop), vector_unit (per element op),
// scalar_unit (per instruction), core_output_reg (per access), memory (per byte moved to or
// from global memory), crossbar_write (per cell programmed).
//
// `components` holds the effective figures: what every consumer (derive(), the simulator's
// energy ledger, reports, the estimator) charges. `given` holds, for each component whose
// effective figure the loader derived from the file's figure (adc under adc.cost_scaling,
// dac under dac.cost_scaling, buffer under core.buffer_cost_scaling), the figure as the file gave it; arch_to_yaml() writes that one, so a
// written spec loads back to the same effective figures.
struct CostSpec {
  std::map<std::string, ComponentCost> components;
  std::map<std::string, ComponentCost> given;
  const ComponentCost& at(const std::string& name) const;
};

struct ArchSpec {
  std::string source_path;  // file it was loaded from
  ChipSpec chip;
  CoreSpec core;
  PeSpec pe;
  CrossbarSpec crossbar;
  SramSpec sram;
  DacSpec dac;
  AdcSpec adc;
  NocSpec noc;
  MemorySpec memory;
  QuantSpec quantization;
  NonidealitySpec nonideality;
  CalibrationSpec calibration;
  CostSpec costs;
};

// Quantities derived from a spec, computed in one place (arch_derived.cpp).
struct ArchDerived {
  double cycle_ns = 0;
  int64_t crossbars_per_core = 0;
  int64_t crossbars_per_chip = 0;
  int cells_per_weight = 0;         // physical columns one weight column occupies
  int weight_cols_per_crossbar = 0; // logical (weight) columns per crossbar
  int input_steps = 0;              // DAC steps per activation = ceil(activation_bits / dac.bits)
  int64_t adc_conversions_per_mvm = 0;  // per crossbar activation (all steps, all used columns)
  double mvm_latency_ns = 0;        // one full crossbar MVM, ADC sharing included
  double peak_macs_per_s = 0;       // whole chip, 8-bit MACs
  double peak_power_mw = 0;         // every component at its maximum action rate + leakage
  double area_um2 = 0;              // whole chip
  std::map<std::string, double> area_um2_by_component;
  std::map<std::string, double> peak_power_mw_by_component;
};

// Loads and validates. Throws InputError with "FILE:LINE:COL: message".
ArchSpec load_arch_spec(const std::string& path);
// Same, from text (used by tests and fuzzers); `name` stands for the file in messages.
ArchSpec parse_arch_spec(const std::string& yaml_text, const std::string& name);
ArchDerived derive(const ArchSpec& spec);
// Human-readable summary of the spec and its derived quantities (cimsim --print-arch).
std::string describe(const ArchSpec& spec);
// A stable 64-bit fingerprint of every field that affects compilation; a program records
// it and the simulator refuses a program compiled for another arch.
uint64_t arch_fingerprint(const ArchSpec& spec);
// The key reference (every key: section, name, type, unit, default, range, meaning) as
// Markdown, generated from the same table the loader uses; docs/config.md embeds it and a
// test checks that the two agree.
std::string config_reference_markdown();
// Lists the fields (as "section.key: a vs b") whose values differ; used to explain a
// fingerprint mismatch.
std::vector<std::string> arch_differences(const ArchSpec& a, const ArchSpec& b);

}  // namespace cimsim
