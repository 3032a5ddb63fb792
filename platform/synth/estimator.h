// The synthesizer's fast analytic estimator: latency, energy, peak power and area of one
// network on one candidate architecture, in microseconds of CPU, without compiling.
//
// Contract (docs/synthesis.md, "Estimator"):
//  - NetShape is built once per model (net_shape()); estimate() is then a pure function of
//    (NetShape, ArchSpec): deterministic, no I/O, O(layers x rows) work.
//  - Mapping arithmetic is the compiler's (backend::tile_conv: tiles, slices, K-split), the
//    per-instruction cycle formulas are the simulator's (TimingParams, docs/timing.md), and
//    peak power / area come from derive() (the one cost model); only the composition of these
//    into a row-level pipeline schedule is the estimator's own model.
//  - Mapping as `cimsim compile` does it (latency mode, or throughput mode with its replicas)
//    when the layers fit the chip. A design
//    needing more cores or crossbars than the chip has (where the compiler would fall back to
//    dense packing or weight reloads), or whose ADC cannot count a crossbar column without
//    clipping, is reported infeasible with the reason (`Estimate::feasible`, `why`).
//  - Buffers: every conv core's plan is the compiler's (backend::choose_conv, the ring with
//    its fallbacks or spilling to global memory); its strip loads, stores and tokens are
//    charged and timed. A core that fits nothing even when spilling makes the design
//    infeasible with the compiler's message; so does a vector-layer core whose regions
//    (backend/vector_buffers.h; a concat's LUT temp left out) exceed the buffer.
//  - Energy per inference counts the actions the models charge (crossbar steps, row drives,
//    conversions, register and buffer accesses, vector ops, router flits, memory bytes) with
//    the arch's per-action costs, plus leakage x latency, as traces/report.cpp does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/backend/mapping.h"
#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"

namespace cimsim::synth {

// One non-reshape layer of the network, arch-independent.
struct LayerShape {
  std::string name;
  q::LayerKind kind = q::LayerKind::kConv;
  std::vector<int> inputs;    // indices into NetShape::layers; -1 = a model input (loaded)
  bool model_output = false;  // stored to global memory row by row
  backend::ConvMap geometry;  // kConv: window, M, G, Cg, Mg (tiles not yet set)
  backend::Window win;        // kConv (== geometry.win), kMaxPool, kAvgPool
  backend::PhysShape in, out; // first input, output
  std::vector<int> consumers; // indices of the layers reading the output
};

struct NetShape {
  std::string model_name;
  std::vector<LayerShape> layers;  // topological order
  int64_t input_bytes = 0;         // per image, all model inputs
};

// Throws InputError for a layer the backend rejects on any architecture.
NetShape net_shape(const q::QModel& m);

struct LayerEstimate {
  std::string name;
  int64_t cores = 0, crossbars = 0;  // all replicas
  int64_t replicas = 1;
  double start_ns = 0, end_ns = 0;  // first row started, last row ready
  // First input row (of any input) ready at the layer: the figure report.json's layers[].start_ns
  // measures in the simulator (its first input bytes arrived).
  double first_input_ns = 0;
  double energy_pj = 0;
};

struct Estimate {
  bool feasible = false;
  std::string why;                 // infeasible: the reason (which layer, which resource)
  int64_t cores_used = 0, crossbars_used = 0;
  double latency_ns = 0;           // one image, layer-pipelined
  double energy_pj = 0;            // one image, dynamic + leakage
  double macs = 0;                 // crossbar MACs per image (rows x weight cols per mvm)
  double peak_power_w = 0, area_mm2 = 0, peak_tops = 0;  // derive()
  double tops_per_w() const { return energy_pj > 0 ? 2.0 * macs / energy_pj : 0.0; }
  double throughput_per_s() const { return latency_ns > 0 ? 1e9 / latency_ns : 0.0; }
  std::vector<LayerEstimate> layers;
};

// How the compiler is asked to map: `cimsim compile --mode latency` (replication < 0 and no
// replicas), throughput mode with BackendOptions::replication = the share in [0, 1]
// (replicas chosen by backend::choose_replicas, the compiler's own rule), or throughput mode
// with explicit counts (BackendOptions::replicas, checked by backend::explicit_replicas; a
// count the compiler would refuse makes the design infeasible with the compiler's reason).
struct MappingChoice {
  double replication = -1;
  std::map<std::string, int64_t> replicas;  // layer name -> count; others 1
  bool throughput() const { return replication >= 0 || !replicas.empty(); }
};

Estimate estimate(const NetShape& net, const ArchSpec& arch, const MappingChoice& mapping = {});

}  // namespace cimsim::synth
