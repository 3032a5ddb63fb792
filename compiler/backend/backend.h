// Backend: a quantized network (q::QModel) -> a Program of per-core instruction streams.
//
// Contract (docs/mapping.md, docs/schedule.md):
//  - compile_qmodel() maps every non-reshape layer onto cores (matrix layers onto crossbar
//    tiles, vector layers onto one core each), places them along a snake walk of the mesh,
//    allocates each core's local buffer and emits its stream. Tensors flow row by row as
//    send/recv messages; model inputs/outputs are read/written row by row in global memory
//    (HWC codes). Every core's stream is wrapped in a batch loop over r15 images.
//  - In latency mode, when the layers need more cores or crossbars than the chip has, FC
//    layers (one output pixel) are time-multiplexed, largest first, until the rest fits:
//    their weights live in global memory and are programmed with wload every image.
//  - A conv core whose input ring does not fit its local buffer reads its input from global
//    memory instead (the producer stores the rows there and sends a 1-byte token per row);
//    one whose output row does not fit stores each output pixel there. Spilled tensors get
//    a region per image, counted in max_batch (docs/schedule.md, "Spilling").
//  - Anything the chip cannot hold even then (cores, crossbars, buffer bytes, K-splitting)
//    throws InputError naming the layer and the numbers; nothing is skipped silently.
//  - Deterministic: the same model, arch and options give the same Program and reports.
//  - The result passes validate(Program) and check_program() (message matching, buffer bounds).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/backend/conv_buffers.h"
#include "compiler/backend/mapping.h"
#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim::backend {

struct BackendOptions {
  std::string mode = "latency";  // "latency" or "throughput" (replicates matrix layers)
  // Throughput mode: the share (0..1) of the cores and crossbars the one-copy mapping leaves
  // free that replicas may take (docs/mapping.md "Modes"); 1 = all of them.
  double replication = 1.0;
  // Throughput mode only: explicit replica counts per matrix layer (layer / ONNX node name ->
  // count), used instead of choose_replicas when not empty; layers not named get 1 replica
  // and `replication` is then unused (docs/mapping.md "Explicit replicas"). Checked by
  // explicit_replicas(); non-empty in latency mode is an InputError.
  std::map<std::string, int64_t> replicas;
};

// Throughput-mode replication (docs/mapping.md "Modes"), shared by the compiler and the
// synthesizer's estimator so both make the same decisions. One entry per layer plan:
// matrix layers carry their output pixels and rows, the cores of one replica and the
// crossbars of one copy; others are skipped. Replicas are added one at a time to the matrix
// layer with the most output pixels per replica while the totals stay within `cores_limit`
// and `crossbars_limit` and the layer has more rows than replicas; the loop stops when that
// bottleneck cannot grow. Returns the replicas per entry (1 for non-matrix layers).
struct ReplicaCandidate {
  std::string name;  // the layer's name (explicit_replicas() matches BackendOptions::replicas on it)
  bool matrix = false;
  int64_t pixels = 1, rows = 1, cores_per_replica = 1, crossbars = 0;
};
std::vector<int64_t> choose_replicas(const std::vector<ReplicaCandidate>& layers, int64_t cores_limit,
                                     int64_t crossbars_limit);
// The limits `replication` (0..1) gives: the one-copy totals plus that share of what the
// chip has left, rounded down.
int64_t replication_limit(int64_t one_copy, int64_t chip, double replication);
// Explicit replicas (BackendOptions::replicas), shared by the compiler and the estimator:
// the named layers get their counts, every other entry 1. Throws InputError, prefixed by
// `where` (the model name), for a name that is no layer (with the closest matrix layer's
// name), a non-matrix layer, a count < 1 or above the layer's output rows, and for totals
// above `chip_cores` / `chip_crossbars` (naming the replicated layers and the numbers).
std::vector<int64_t> explicit_replicas(const std::vector<ReplicaCandidate>& layers,
                                       const std::map<std::string, int64_t>& counts, int64_t chip_cores,
                                       int64_t chip_crossbars, const std::string& where);

// One non-reshape layer as mapped.
struct LayerPlan {
  int layer = 0;                 // index into QModel::layers (== Program::layers)
  q::LayerKind kind = q::LayerKind::kConv;
  std::vector<int> inputs;       // distinct physical input tensors, first-use order
  int out = 0;                   // physical output tensor
  int64_t slices = 1;            // output-channel slices per replica
  int64_t kparts = 1;            // cores per slice (K-split parts; part 0 requantizes and sends)
  int64_t per_replica() const { return slices * kparts; }
  int64_t replica_of(int64_t k) const { return k / per_replica(); }
  int64_t slice_of(int64_t k) const { return (k % per_replica()) / kparts; }
  int64_t part_of(int64_t k) const { return k % kparts; }
  int64_t core_index(int64_t replica, int64_t slice, int64_t part) const {
    return (replica * slices + slice) * kparts + part;
  }
  int64_t replicas = 1;          // throughput mode: whole copies; replica r computes rows oy % replicas == r
  std::vector<int> cores;        // chip core ids: replica-major, then slice, then part
  std::vector<int64_t> m0, m1;   // output channel slice per core
  std::vector<int64_t> in_c0, in_c1;  // kConv: input channels a core reads (its groups)
  std::vector<std::vector<int>> core_col_tiles;  // kConv: ColTile indices per core
  ConvMap conv;                  // kConv
  Window win;                    // kConv (== conv.win), kMaxPool, kAvgPool
  bool global_pool = false;      // kAvgPool over the whole plane
  bool ring = false;             // input rows kept in a ring of padded rows
  std::vector<bool> per_pixel_requant;  // kConv, per core: accumulators per pixel, not per row
  std::vector<int64_t> ring_slots;      // ring layers, per core: slots actually allocated
  // Spilling (kConv, per core; docs/schedule.md "Spilling"): strip_pixels > 0 = the input
  // is read from global memory in strips of that many output pixels (strip_buffers of
  // them, 1 or 2) instead of a ring; store_per_pixel = output pixels are stored to global
  // memory one by one (no output row buffer).
  std::vector<int64_t> strip_pixels, strip_buffers;
  std::vector<bool> store_per_pixel;
  int64_t spill_bytes_per_image = 0;    // global-memory bytes moved because of spilling
  // Time-multiplexed (latency mode, when the chip is too small; docs/mapping.md "Reloads"):
  // a core whose tiles outnumber its crossbars keeps them in global memory and programs
  // them with wload, crossbar (tile index mod crossbars per core), once per image.
  bool reload = false;
  int64_t reload_passes = 0;            // max over cores of ceil(tiles / crossbars per core)
  int64_t reload_bytes_per_image = 0;   // weight bytes read from global memory per image
};

struct CoreInfo {
  int core = -1;
  int plan = -1;                 // index into CompiledModel::layers, -1: idle core
  std::vector<BufferRegion> buffers;
  int64_t peak_bytes = 0;
};

struct MessageEdge {
  int from_core = 0, to_core = 0;  // -1 stands for global memory (load/store)
  int tensor = 0;
  int64_t messages_per_image = 0, bytes_per_image = 0;
  int hops = 0;
};

// A tensor kept in global memory because a core could not hold its rows (docs/schedule.md).
struct SpillRegion {
  int tensor = 0;                 // physical tensor
  int64_t addr = 0;               // image n at addr + n * bytes_per_image
  int64_t bytes_per_image = 0;
  bool own_region = true;         // false: the tensor is a model input/output, already in memory
};

struct CompiledModel {
  std::string mode;
  Program program;
  TensorMap tensors;
  std::vector<LayerPlan> layers;
  std::vector<CoreInfo> cores;        // one per chip core
  std::vector<MessageEdge> edges;
  std::vector<int> snake;             // mesh walk order of core ids
  int64_t max_batch = 0;              // images that fit the global-memory regions
  int64_t crossbars_used = 0, crossbars_available = 0;
  int64_t hop_bytes_per_image = 0;
  // Reloadable weights live in global memory [weight_region_addr, + weight_region_bytes).
  int64_t weight_region_addr = 0, weight_region_bytes = 0;
  int64_t reload_bytes_per_image = 0;
  // Spilled tensors; their own regions lie in [spill_region_addr, + spill_region_bytes).
  std::vector<SpillRegion> spills;
  int64_t spill_region_addr = 0, spill_region_bytes = 0;
  int64_t spill_bytes_per_image = 0;  // sum over layers
};

CompiledModel compile_qmodel(const q::QModel& m, const ArchSpec& arch, const BackendOptions& opt);

// Reports of the program directory: deterministic text (no wall time, no paths), so that a
// program directory is byte-identical across runs and machines.
std::string cim_ir_yaml(const q::QModel& m, const ArchSpec& arch, const CompiledModel& cm);
std::string schedule_yaml(const q::QModel& m, const CompiledModel& cm);
std::string compile_json_text(const q::QModel& m, const ArchSpec& arch, const CompiledModel& cm);

}  // namespace cimsim::backend
