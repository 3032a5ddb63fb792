// Program-directory reports: cim-ir.yaml, schedule.yaml, compile.json (docs/mapping.md,
// docs/schedule.md). Deterministic text: fixed order, no times, no paths.
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/backend/backend.h"
#include "compiler/backend/program_check.h"

namespace cimsim::backend {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += fmt::format("{}{}", i ? ", " : "", s[i]);
  return o + "]";
}

std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    o += ch;
  }
  return o + "\"";
}

std::string tensor_yaml(const q::QTensor& t, const char* indent) {
  return fmt::format("{}{{name: {}, shape: {}, scale: {:.9g}, bits: {}, unsigned: {}}}", indent,
                     quoted(t.name), shape_str(t.shape), t.scale, t.bits,
                     t.is_unsigned ? "true" : "false");
}

int plan_of_layer(const CompiledModel& cm, int li) {
  for (size_t i = 0; i < cm.layers.size(); ++i) {
    if (cm.layers[i].layer == li) return static_cast<int>(i);
  }
  return -1;
}

double cell_utilization(const ConvMap& cv, const ArchSpec& arch) {
  const double cells = static_cast<double>(cv.crossbars) * arch.crossbar.rows * arch.crossbar.cols;
  return cells > 0 ? static_cast<double>(cv.used_cells) / cells : 0.0;
}

// A tile's tuned ADC settings (`cimsim calibrate`), only where set: the compiler writes 0
// for both, so a compiled program's cim-ir.yaml does not change.
std::string tuned_adc_yaml(const TileDesc& t) {
  std::string o;
  if (t.adc_full_scale != 0.0f) o += fmt::format(", adc_full_scale: {}", t.adc_full_scale);
  if (t.adc_offset_lsb != 0.0f) o += fmt::format(", adc_offset_lsb: {}", t.adc_offset_lsb);
  return o;
}

}  // namespace

std::string cim_ir_yaml(const q::QModel& m, const ArchSpec& arch, const CompiledModel& cm) {
  std::ostringstream o;
  o << "# Mapped IR (docs/mapping.md): per layer shapes, quantization, tiles and where they live.\n";
  o << fmt::format("model: {}\n", quoted(m.name));
  o << fmt::format("weight_bits: {}\nactivation_bits: {}\n", m.weight_bits, m.activation_bits);
  o << "layers:\n";
  for (size_t li = 0; li < m.layers.size(); ++li) {
    const q::Layer& l = m.layers[li];
    o << fmt::format("  - name: {}\n    kind: {}\n", quoted(l.name), q::layer_kind_name(l.kind));
    o << "    inputs:\n";
    for (int t : l.inputs) o << tensor_yaml(m.tensors[static_cast<size_t>(t)], "      - ") << "\n";
    o << tensor_yaml(m.tensors[static_cast<size_t>(l.output)], "    output: ") << "\n";
    for (const SpillRegion& sr : cm.spills) {
      if (l.kind != q::LayerKind::kReshape && sr.tensor == l.output) {
        o << fmt::format("    spilled: {{addr: {}, bytes_per_image: {}, own_region: {}}}  # output kept in global memory\n",
                         sr.addr, sr.bytes_per_image, sr.own_region ? "true" : "false");
      }
    }
    if (l.kind == q::LayerKind::kReshape) {
      const int src = cm.tensors.phys[static_cast<size_t>(l.output)];
      o << fmt::format("    alias_of: {}\n", quoted(m.tensors[static_cast<size_t>(src)].name));
      continue;
    }
    const int pi = plan_of_layer(cm, static_cast<int>(li));
    const LayerPlan& lp = cm.layers[static_cast<size_t>(pi)];
    o << fmt::format("    replication: {}\n", lp.replicas);
    if (lp.reload) {
      o << fmt::format("    reload: {{passes: {}, bytes_per_image: {}}}\n", lp.reload_passes,
                       lp.reload_bytes_per_image);
    }
    o << "    cores: [";
    for (size_t k = 0; k < lp.cores.size(); ++k) o << (k ? ", " : "") << lp.cores[k];
    o << "]\n";
    std::string from_global, px_stores;
    for (size_t k = 0; k < lp.strip_pixels.size(); ++k) {
      if (lp.strip_pixels[k] > 0) from_global += fmt::format("{}{}", from_global.empty() ? "" : ", ", lp.cores[k]);
      if (lp.store_per_pixel[k]) px_stores += fmt::format("{}{}", px_stores.empty() ? "" : ", ", lp.cores[k]);
    }
    if (!from_global.empty() || !px_stores.empty()) {
      o << fmt::format("    spill: {{input_from_global_memory: [{}], output_pixels_stored: [{}]}}\n",
                       from_global, px_stores);
    }
    if (lp.kind != q::LayerKind::kConv) continue;
    const ConvMap& cv = lp.conv;
    const Window& w = cv.win;
    o << fmt::format(
        "    matrix: {{K: {}, M: {}, kernel: [{}, {}], stride: [{}, {}], dilation: [{}, {}], "
        "pads: [{}, {}, {}, {}], groups: {}, fc: {}}}\n",
        w.kh * w.kw * cv.Cg, cv.M, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.pt, w.pl, w.pb, w.pr,
        cv.G, l.conv.is_fc ? "true" : "false");
    o << fmt::format("    packing: {{groups_per_block: {}, blocks: {}, cell_utilization: {:.6f}}}\n",
                     cv.P, cv.blocks.size(), cell_utilization(cv, arch));
    o << "    tiles:\n";
    for (size_t k = 0; k < lp.cores.size(); ++k) {
      const int core = lp.cores[k];
      const CoreProgram& cp = cm.program.cores[static_cast<size_t>(core)];
      size_t ti = 0;
      for (int ct : lp.core_col_tiles[k]) {
        const ColTile& c = cv.col_tiles[static_cast<size_t>(ct)];
        const ConvBlock& b = cv.blocks[static_cast<size_t>(c.block)];
        const int64_t rt0 = lp.part_of(static_cast<int64_t>(k)) * cv.rows_per_part;
        const int64_t rt1 = std::min(b.row_tiles, rt0 + cv.rows_per_part);
        for (int64_t rt = rt0; rt < rt1; ++rt, ++ti) {
          const TileDesc& t = cp.tiles[ti];
          const int64_t r0 = rt * arch.crossbar.rows;
          o << fmt::format(
              "      - {{core: {}, tile: {}, pe: {}, crossbar: {}, block: {}, rows: [{}, {}], "
              "out_channels: [{}, {}], in_channels: [{}, {}]{}{}}}\n",
              core, ti, t.pe, t.crossbar, c.block, r0, r0 + t.rows, c.m0, c.m0 + c.cols, b.c0,
              b.c0 + b.cin,
              t.weight_global_addr >= 0
                  ? fmt::format(", reloadable: true, weight_global_addr: {}", t.weight_global_addr)
                  : "",
              tuned_adc_yaml(t));
        }
      }
    }
  }
  return o.str();
}

std::string schedule_yaml(const q::QModel& m, const CompiledModel& cm) {
  std::ostringstream o;
  o << "# Dataflow schedule (docs/schedule.md): rows flow as messages; one batch loop per core.\n";
  o << "global_memory:\n";
  o << fmt::format("  max_batch: {}\n", cm.max_batch);
  for (const TensorIO& io : cm.program.inputs) {
    o << fmt::format("  - {{tensor: {}, role: input, addr: {}, bytes_per_image: {}}}\n",
                     quoted(io.name), io.global_addr, io.bytes_per_image);
  }
  for (const TensorIO& io : cm.program.outputs) {
    o << fmt::format("  - {{tensor: {}, role: output, addr: {}, bytes_per_image: {}}}\n",
                     quoted(io.name), io.global_addr, io.bytes_per_image);
  }
  for (const SpillRegion& sr : cm.spills) {
    o << fmt::format("  - {{tensor: {}, role: spill, addr: {}, bytes_per_image: {}, own_region: {}}}\n",
                     quoted(m.tensors[static_cast<size_t>(sr.tensor)].name), sr.addr,
                     sr.bytes_per_image, sr.own_region ? "true" : "false");
  }
  o << "snake: [";
  for (size_t i = 0; i < cm.snake.size(); ++i) o << (i ? ", " : "") << cm.snake[i];
  o << "]\nlayers:\n";
  for (const LayerPlan& lp : cm.layers) {
    o << fmt::format("  - name: {}\n    kind: {}\n", quoted(m.layers[static_cast<size_t>(lp.layer)].name),
                     q::layer_kind_name(lp.kind));
    o << fmt::format("    replicas: {}  # replica r computes output rows oy % replicas == r\n"
                     "    slices: {}\n    kparts: {}\n", lp.replicas, lp.slices, lp.kparts);
    if (lp.ring) {
      o << fmt::format("    ring: {{slots: {}, slot_bytes: {}}}  # full-channel figures; cores below\n",
                       lp.win.ring_slots(), lp.win.slot_bytes());
    }
    o << "    cores:\n";
    for (size_t k = 0; k < lp.cores.size(); ++k) {
      const CoreInfo& ci = cm.cores[static_cast<size_t>(lp.cores[k])];
      o << fmt::format("      - core: {}\n        out_channels: [{}, {}]\n", lp.cores[k], lp.m0[k],
                       lp.m1[k]);
      if (k < lp.strip_pixels.size() && lp.strip_pixels[k] > 0) {
        o << fmt::format("        input: {{from: global_memory, strip_pixels: {}, strip_buffers: {}}}\n",
                         lp.strip_pixels[k], lp.strip_buffers[k]);
      } else if (k < lp.ring_slots.size()) {
        o << fmt::format("        ring_slots: {}\n", lp.ring_slots[k]);
      }
      if (k < lp.store_per_pixel.size() && lp.store_per_pixel[k]) o << "        output: per_pixel_stores\n";
      if (k < lp.per_pixel_requant.size()) {
        const bool per_strip = lp.strip_pixels[k] > 0 && lp.kparts == 1;
        o << fmt::format("        accumulators: {}\n",
                         per_strip ? "per_strip" : lp.per_pixel_requant[k] ? "per_pixel" : "per_row");
      }
      o << fmt::format("        buffer_bytes: {}\n        buffers:\n", ci.peak_bytes);
      for (const BufferRegion& r : ci.buffers) {
        o << fmt::format("          - {{name: {}, offset: {}, bytes: {}}}\n", r.name, r.offset, r.bytes);
      }
    }
  }
  o << "messages:  # per image; core -1 is global memory\n";
  for (const MessageEdge& e : cm.edges) {
    o << fmt::format("  - {{from: {}, to: {}, tensor: {}, messages: {}, bytes: {}, hops: {}}}\n",
                     e.from_core, e.to_core, quoted(m.tensors[static_cast<size_t>(e.tensor)].name),
                     e.messages_per_image, e.bytes_per_image, e.hops);
  }
  return o.str();
}

std::string compile_json_text(const q::QModel& m, const ArchSpec& arch, const CompiledModel& cm) {
  using nlohmann::ordered_json;
  const ArchDerived d = derive(arch);
  ordered_json j;
  j["model"] = m.name;
  j["arch"] = arch.chip.name;
  j["mode"] = cm.mode;
  j["crossbars_used"] = cm.crossbars_used;
  j["crossbars_available"] = cm.crossbars_available;
  int64_t used_cells = 0;
  for (const LayerPlan& lp : cm.layers) used_cells += lp.conv.used_cells * lp.replicas;
  const double cells_in_used = static_cast<double>(cm.crossbars_used) * arch.crossbar.rows * arch.crossbar.cols;
  j["utilization"] = {
      {"crossbars", cm.crossbars_available ? double(cm.crossbars_used) / double(cm.crossbars_available) : 0.0},
      {"cells_in_used_crossbars", cells_in_used > 0 ? used_cells / cells_in_used : 0.0}};
  int64_t cores_used = 0;
  for (const CoreInfo& c : cm.cores) cores_used += c.plan >= 0 ? 1 : 0;
  j["cores_used"] = cores_used;
  j["cores_available"] = arch.chip.cores;
  ordered_json layers = ordered_json::array();
  for (const LayerPlan& lp : cm.layers) {
    ordered_json L;
    L["name"] = m.layers[static_cast<size_t>(lp.layer)].name;
    L["kind"] = q::layer_kind_name(lp.kind);
    L["replication"] = lp.replicas;
    L["slices"] = lp.slices;
    L["kparts"] = lp.kparts;
    L["cores"] = lp.cores;
    if (lp.kind == q::LayerKind::kConv) {
      const ConvMap& cv = lp.conv;
      L["crossbars"] = cv.crossbars;
      L["row_tiles"] = cv.row_tiles_max;
      L["col_tiles"] = cv.col_tiles.size();
      L["packing"] = {{"groups", cv.G},
                      {"groups_per_block", cv.P},
                      {"blocks", cv.blocks.size()},
                      {"cell_utilization", cell_utilization(cv, arch)}};
      L["macs_per_image"] = cv.nonzero_weights * cv.win.OH * cv.win.OW;
      L["reload_passes"] = lp.reload_passes;
      L["reload_bytes_per_image"] = lp.reload_bytes_per_image;
    }
    L["spill_bytes_per_image"] = lp.spill_bytes_per_image;
    layers.push_back(L);
  }
  j["layers"] = layers;
  const CheckResult chk = check_program(cm.program, 1, 0, 0);
  const std::vector<CoreCost> cost = unit_busy_cycles(cm.program, arch, 1);
  ordered_json cores = ordered_json::array();
  int64_t max_busy = 0, total_static = 0, total_dyn = 0;
  for (size_t c = 0; c < cm.program.cores.size(); ++c) {
    const CoreProgram& cp = cm.program.cores[c];
    if (cp.code.empty()) continue;
    ordered_json C;
    C["core"] = c;
    C["layer"] = m.layers[static_cast<size_t>(cm.layers[static_cast<size_t>(cm.cores[c].plan)].layer)].name;
    C["static_instructions"] = cp.code.size();
    C["dynamic_instructions_per_image"] = chk.dynamic_instructions[c];
    C["tiles"] = cp.tiles.size();
    C["peak_buffer_bytes"] = cm.cores[c].peak_bytes;
    C["busy_cycles_per_image"] = cost[c].busy_cycles;
    total_static += static_cast<int64_t>(cp.code.size());
    total_dyn += chk.dynamic_instructions[c];
    max_busy = std::max(max_busy, cost[c].busy_cycles);
    cores.push_back(C);
  }
  // Rough estimate (docs/schedule.md): the busiest unit of the busiest core, plus one
  // row time per layer for the pipeline to fill.
  int64_t fill = 0;
  for (const LayerPlan& lp : cm.layers) {
    int64_t busy = 0;
    for (int c : lp.cores) busy = std::max(busy, cost[static_cast<size_t>(c)].busy_cycles);
    const int64_t rows = std::max<int64_t>(1, m.tensors[static_cast<size_t>(lp.out)].shape.size() == 3
                                                   ? m.tensors[static_cast<size_t>(lp.out)].shape[1]
                                                   : 1);
    fill += busy / rows;
  }
  j["static_instructions_total"] = total_static;
  j["dynamic_instructions_per_image"] = total_dyn;
  j["hop_bytes_per_image"] = cm.hop_bytes_per_image;
  j["max_batch"] = cm.max_batch;
  j["reload_bytes_per_image"] = cm.reload_bytes_per_image;
  j["weight_region"] = {{"addr", cm.weight_region_addr}, {"bytes", cm.weight_region_bytes}};
  j["spill_bytes_per_image"] = cm.spill_bytes_per_image;
  j["spill_region"] = {{"addr", cm.spill_region_addr}, {"bytes", cm.spill_region_bytes}};
  j["estimated_latency_cycles"] = max_busy + fill;
  j["estimated_latency_ns"] = static_cast<double>(max_busy + fill) * d.cycle_ns;
  j["cores"] = cores;
  return j.dump(2) + "\n";
}

}  // namespace cimsim::backend
