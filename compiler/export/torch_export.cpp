#include "compiler/export/torch_export.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/export/torch_runtime.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/frontend/trained_weights.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/reference.h"
#include "platform/spec/program_io.h"

namespace cimsim {

namespace {

using nlohmann::json;

std::string base64_floats(const std::vector<float>& v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));  // little-endian
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = uint32_t{bytes[i]} << 16 | (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0) |
                       (i + 2 < bytes.size() ? uint32_t{bytes[i + 2]} : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

const char* range_name(AdcRangePolicy p) {
  switch (p) {
    case AdcRangePolicy::kLsbAligned: return "lsb_aligned";
    case AdcRangePolicy::kWorstCase: return "worst_case";
    default: return "calibrated";
  }
}

// A JSON array with one element per line (readable tables in the generated file).
std::string one_per_line(const json& array) {
  std::string out = "[\n";
  for (size_t i = 0; i < array.size(); ++i) out += "  " + array[i].dump() + (i + 1 < array.size() ? ",\n" : "\n");
  return out + "]";
}

// A Python literal of a double that reads back as the same double (float32 values widened
// to double stay exact).
std::string py_num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

class Exporter {
 public:
  Exporter(const ir::Graph& g, const q::QModel& m, const ArchSpec& arch, const Program* tuned)
      : g_(g), m_(m), arch_(arch), tuned_(tuned) {}

  std::string source(const std::string& model_path, const std::string& arch_path) {
    check_arch();
    if (tuned_) collect_tuned_adc();
    const std::vector<int> trainable = frontend::trainable_constants(g_);
    for (size_t i = 0; i < trainable.size(); ++i) param_of_[trainable[i]] = static_cast<int>(i);
    for (size_t i = 0; i < m_.layers.size(); ++i)
      if (m_.layers[i].kind == q::LayerKind::kReshape) alias_src_[m_.layers[i].output] = m_.layers[i].inputs[0];

    json params = json::array();
    for (int v : trainable) {
      const ir::Value& val = g_.values[v];
      if (val.quant)
        throw InputError(prefix() + "weight '" + val.name +
                         "' carries a QDQ annotation; export-training supports float weights only");
      params.push_back({{"name", val.name}, {"shape", val.data->shape}, {"data", base64_floats(val.data->data)}});
    }
    json tensors = json::array();
    for (const q::QTensor& t : m_.tensors)
      tensors.push_back({{"name", t.name},
                         {"shape", t.shape},
                         {"scale", static_cast<double>(t.scale)},
                         {"unsigned", t.is_unsigned},
                         {"bits", t.bits},
                         {"qmin", t.qmin()},
                         {"qmax", t.qmax()}});
    json layers = json::array();
    for (size_t i = 0; i < m_.layers.size(); ++i) layers.push_back(layer(static_cast<int>(i)));
    json out_shapes = json::array();
    for (int v : g_.outputs) out_shapes.push_back(g_.values[v].shape);
    std::string host_softmax = "[";
    for (size_t i = 0; i < m_.output_host_softmax.size(); ++i)
      host_softmax += std::string(i ? ", " : "") + (m_.output_host_softmax[i] ? "True" : "False");
    host_softmax += "]";

    std::ostringstream py;
    header(py, model_path, arch_path, trainable);
    py << "import base64\nimport json\nimport math\nimport os\n\nimport torch\nimport torch.nn.functional as F\n\n";
    arch_table(py, arch_path);
    py << "\n# The quantized network (compiler/quant/qmodel.h): tensors with their scales and code ranges,\n"
          "# layers in topological order, trainable parameters (float32, base64 little-endian).\n";
    py << "TENSORS = json.loads(r\"\"\"" << one_per_line(tensors) << "\"\"\")\n";
    py << "LAYERS = json.loads(r\"\"\"" << one_per_line(layers) << "\"\"\")\n";
    py << "INPUTS = " << json(m_.inputs).dump() << "\n";
    py << "OUTPUTS = " << json(m_.outputs).dump() << "\n";
    py << "OUTPUT_SHAPES = " << out_shapes.dump() << "\n";
    py << "HOST_SOFTMAX = " << host_softmax << "\n";
    py << "PARAMS = json.loads(r\"\"\"" << params.dump() << "\"\"\")\n";
    return py.str() + "\n" + export_detail::kTorchRuntime;
  }

 private:
  std::string prefix() const { return (g_.source.empty() ? std::string("model") : g_.source) + ": "; }

  void check_arch() const {
    if (arch_.adc.range == AdcRangePolicy::kCalibrated && !arch_.adc.lossless && !tuned_)
      throw InputError((arch_.source_path.empty() ? std::string("arch") : arch_.source_path) +
                       ": adc.range calibrated needs the tuned per-tile ADC full scales: pass the "
                       "`cimsim calibrate` output directory with --tuned DIR (or use worst_case or lsb_aligned)");
  }

  // Per layer name: row count -> (TileDesc::adc_full_scale, TileDesc::adc_offset_lsb). The
  // runtime's row tiles are identified by their height; calibrate gives every tile of a layer
  // one full scale (clipped to the tile's own worst case, a function of its rows) and one
  // offset, so the height determines both. Tiles that disagree cannot be represented.
  void collect_tuned_adc() {
    for (const CoreProgram& core : tuned_->cores)
      for (const TileDesc& t : core.tiles) {
        if (t.layer < 0 || static_cast<size_t>(t.layer) >= tuned_->layers.size()) continue;
        const std::string& name = tuned_->layers[t.layer];
        auto& by_rows = tuned_adc_[name];
        const std::pair<float, float> v{t.adc_full_scale, t.adc_offset_lsb};
        const auto [it, fresh] = by_rows.emplace(t.rows, v);
        if (!fresh && (std::memcmp(&it->second.first, &v.first, sizeof(float)) != 0 ||
                       std::memcmp(&it->second.second, &v.second, sizeof(float)) != 0))
          throw InputError("--tuned program: layer '" + name + "': tiles of " + std::to_string(t.rows) +
                           " rows carry different ADC full scales/offsets (" + py_num(it->second.first) + "/" +
                           py_num(it->second.second) + " vs " + py_num(v.first) + "/" + py_num(v.second) +
                           "); export-training models one figure per layer and tile height");
      }
  }

  int root_tensor(int t) const {
    for (auto it = alias_src_.find(t); it != alias_src_.end(); it = alias_src_.find(t)) t = it->second;
    return t;
  }

  const ir::Node* node_named(const std::string& name) const {
    for (const ir::Node& n : g_.nodes)
      if (n.name == name) return &n;
    return nullptr;
  }

  json layer(int li) {
    const q::Layer& L = m_.layers[li];
    json j = {{"name", L.name}, {"inputs", L.inputs}, {"output", L.output}};
    switch (L.kind) {
      case q::LayerKind::kConv: conv(L, j); break;
      case q::LayerKind::kAdd:
        j["kind"] = "add";
        j["mult_a"] = L.add.mult_a;
        j["mult_b"] = L.add.mult_b;
        j["shift"] = L.add.add_shift;
        break;
      case q::LayerKind::kMaxPool:
      case q::LayerKind::kAvgPool: {
        const q::PoolParams& p = L.pool;
        j["kind"] = L.kind == q::LayerKind::kMaxPool ? "maxpool" : "avgpool";
        j["kernel"] = {p.kernel_h, p.kernel_w};
        j["strides"] = {p.stride_h, p.stride_w};
        j["pads"] = {p.pad_top, p.pad_left, p.pad_bottom, p.pad_right};
        j["dilations"] = {p.dilation_h, p.dilation_w};
        j["count_include_pad"] = p.count_include_pad;
        if (L.kind == q::LayerKind::kAvgPool) {
          std::vector<int64_t> mult, shift;
          for (const qmath::QuantizedMultiplier& q : p.avg_multiplier) {
            mult.push_back(q.multiplier);
            shift.push_back(q.shift);
          }
          j["avg_mult"] = mult;
          j["avg_shift"] = shift;
        }
        break;
      }
      case q::LayerKind::kConcat:
        j["kind"] = "concat";
        j["luts"] = L.lut_per_input;
        break;
      case q::LayerKind::kLut:
        j["kind"] = "lut";
        j["lut"] = L.lut;
        break;
      case q::LayerKind::kReshape: j["kind"] = "reshape"; break;
    }
    return j;
  }

  void conv(const q::Layer& L, json& j) {
    const q::ConvParams& p = L.conv;
    j["kind"] = "conv";
    j["out_channels"] = p.out_channels;
    j["in_channels"] = p.in_channels;
    j["kernel"] = {p.kernel_h, p.kernel_w};
    j["strides"] = {p.stride_h, p.stride_w};
    j["pads"] = {p.pad_top, p.pad_left, p.pad_bottom, p.pad_right};
    j["dilations"] = {p.dilation_h, p.dilation_w};
    j["group"] = p.group;
    j["is_fc"] = p.is_fc;
    if (p.is_fc) {
      const q::QTensor& root = m_.tensors[root_tensor(L.inputs[0])];
      if (root.shape.size() == 3)
        j["plane"] = root.shape;
      else
        j["plane"] = {p.in_channels, 1, 1};
    }
    // Groups packed per crossbar block (mapping.cpp, map_conv).
    int64_t P = 1;
    if (p.group > 1) {
      const ArchDerived d = derive(arch_);
      const int64_t Cg = p.in_channels / p.group, Mg = p.out_channels / p.group;
      const int64_t kk = p.kernel_h * p.kernel_w;
      P = std::max<int64_t>(1, std::min<int64_t>({p.group, d.weight_cols_per_crossbar / Mg,
                                                   arch_.crossbar.rows / (kk * Cg)}));
    }
    j["groups_per_block"] = P;
    if (tuned_) {
      // [[rows, adc_full_scale, adc_offset_lsb], ...]; float32 figures widened exactly.
      json t = json::array();
      const auto it = tuned_adc_.find(L.name);
      if (it != tuned_adc_.end())
        for (const auto& [rows, v] : it->second)
          t.push_back({rows, static_cast<double>(v.first), static_cast<double>(v.second)});
      j["adc_tiles"] = t;
    }
    const ir::Node* n = node_named(L.name);
    const bool matrix_op = n && (n->kind == ir::OpKind::kConv || n->kind == ir::OpKind::kGemm ||
                                 n->kind == ir::OpKind::kMatMul);
    if (matrix_op) {
      const auto pit = param_of_.find(n->inputs[1]);
      if (pit == param_of_.end())
        throw InputError(prefix() + "node '" + n->name + "': weights are not a constant");
      j["op"] = n->op_type;
      j["weight"] = pit->second;
      j["bias"] = nullptr;
      if (n->kind != ir::OpKind::kMatMul && n->inputs.size() > 2 && n->inputs[2] >= 0) {
        const auto bit = param_of_.find(n->inputs[2]);
        if (bit == param_of_.end()) throw InputError(prefix() + "node '" + n->name + "': bias is not a constant");
        j["bias"] = bit->second;
      }
      j["trans_b"] = n->attr_int("transB", 0) != 0;
      j["alpha"] = static_cast<double>(n->attr_float("alpha", 1.0f));
      j["beta"] = static_cast<double>(n->attr_float("beta", 1.0f));
      return;
    }
    // Per-channel affine: fixed, codes and scales as the quantizer chose them.
    j["op"] = "affine";
    j["weight"] = nullptr;
    std::vector<int32_t> codes(p.weights.begin(), p.weights.end());
    std::vector<double> scales(p.weight_scale.begin(), p.weight_scale.end());
    std::vector<int64_t> mult, shift;
    for (const qmath::QuantizedMultiplier& q : p.requant) {
      mult.push_back(q.multiplier);
      shift.push_back(q.shift);
    }
    j["fixed"] = {{"codes", codes}, {"weight_scale", scales}, {"bias", p.bias}, {"mult", mult}, {"shift", shift}};
    j["frozen_shape"] = {p.out_channels, p.in_channels / p.group, p.kernel_h, p.kernel_w};
  }

  void header(std::ostream& py, const std::string& model_path, const std::string& arch_path,
              const std::vector<int>& trainable) const {
    py << "# Generated by `cimsim export-training` from " << model_path << " for " << arch_path << ".\n"
       << "# Do not edit: re-export instead. Documentation: docs/training.md.\n"
       << "\"\"\"Hardware-aware PyTorch model of " << (m_.name.empty() ? "the network" : m_.name)
       << " as cimsim computes it on " << arch_path << ".\n\n"
       << "HwModel() is a torch.nn.Module whose forward reproduces `cimsim` on this architecture:\n"
       << "in eval mode (noise off) it equals `cimsim reference --arch` when the ADC is lossless and\n"
       << "the devices ideal, and `cimsim run` (the simulator) with a lossy ADC and no random device\n"
       << "effects. In train mode it samples programming noise, stuck cells and read noise from the\n"
       << "arch (seed: HwModel(seed=...) or model.seed(n); force with model.noise = True/False) and\n"
       << "back-propagates with straight-through estimators. model.save_weights(PATH) writes the\n"
       << "trainable tensors for `cimsim compile MODEL --arch ARCH --weights PATH`.\n\n"
       << "Trainable parameters (model.params[i], named model.param_names[i]):\n";
    for (size_t i = 0; i < trainable.size(); ++i) {
      const ir::Value& v = g_.values[trainable[i]];
      py << "  " << i << ": " << v.name << " [";
      for (size_t d = 0; d < v.data->shape.size(); ++d) py << (d ? ", " : "") << v.data->shape[d];
      py << "]\n";
    }
    py << "\nRun as a script: python3 THIS.py IN.npy OUT.npy [--noise] [--seed N] [--weights W]\n\"\"\"\n";
  }

  void arch_table(std::ostream& py, const std::string& arch_path) const {
    const auto& a = arch_;
    py << "# Architecture figures, from " << arch_path << " (keys: docs/config.md).\nARCH = {\n";
    auto row = [&py](const std::string& key, const std::string& value, const std::string& from) {
      py << "    \"" << key << "\": " << value << ",  # " << from << "\n";
    };
    row("rows", std::to_string(a.crossbar.rows), "crossbar.rows: row-tile height (im2col rows per crossbar)");
    row("cols", std::to_string(a.crossbar.cols), "crossbar.cols");
    row("cell_bits", std::to_string(a.crossbar.cell_bits), "crossbar.cell_bits: bits per cell");
    row("encoding", a.crossbar.encoding == WeightEncoding::kOffset ? "\"offset\"" : "\"differential\"",
        "crossbar.encoding");
    row("weight_flip", a.crossbar.weight_flip ? "True" : "False", "crossbar.weight_flip");
    row("g_min_us", py_num(a.crossbar.g_min_us), "crossbar.g_min_us (floor of programmed levels)");
    row("g_max_us", py_num(a.crossbar.g_max_us), "crossbar.g_max_us");
    row("dac_bits", std::to_string(a.dac.bits), "dac.bits: input bits per step");
    row("adc_bits", std::to_string(a.adc.bits), "adc.bits");
    row("adc_range", std::string("\"") + range_name(a.adc.range) + "\"", "adc.range");
    row("adc_lossless", a.adc.lossless ? "True" : "False", "adc.lossless");
    row("weight_bits", std::to_string(a.quantization.weight_bits), "quantization.weight_bits");
    row("activation_bits", std::to_string(a.quantization.activation_bits), "quantization.activation_bits");
    row("weight_granularity",
        a.quantization.weight_granularity == QuantGranularity::kPerChannel ? "\"per_channel\"" : "\"per_tensor\"",
        "quantization.weight_granularity");
    row("requant_shift_max", std::to_string(a.quantization.requant_shift_max), "quantization.requant_shift_max");
    const auto& ni = a.nonideality;
    row("programming_noise_sigma", py_num(ni.programming_noise_sigma),
        "nonideality.programming_noise_sigma (fraction of g_max - g_min, per cell)");
    row("read_noise_sigma", py_num(ni.read_noise_sigma),
        "nonideality.read_noise_sigma (fraction of g_max - g_min, per cell and MVM)");
    row("stuck_on_fraction", py_num(ni.stuck_on_fraction), "nonideality.stuck_on_fraction");
    row("stuck_off_fraction", py_num(ni.stuck_off_fraction), "nonideality.stuck_off_fraction");
    row("conductance_levels", std::to_string(ni.conductance_levels), "nonideality.conductance_levels");
    row("adc_offset_lsb", py_num(ni.adc_offset_lsb), "nonideality.adc_offset_lsb");
    row("adc_gain_error", py_num(ni.adc_gain_error), "nonideality.adc_gain_error");
    row("seed", std::to_string(ni.seed), "nonideality.seed (default seed of the torch.Generator)");
    py << "}\n";
  }

  const ir::Graph& g_;
  const q::QModel& m_;
  const ArchSpec& arch_;
  const Program* tuned_;
  std::map<std::string, std::map<int, std::pair<float, float>>> tuned_adc_;
  std::map<int, int> param_of_;   // value id -> PARAMS index
  std::map<int, int> alias_src_;  // reshape output tensor -> its input tensor
};

}  // namespace

std::string torch_module_source(const ir::Graph& g, const q::QModel& m, const ArchSpec& arch,
                                const std::string& model_path, const std::string& arch_path,
                                const Program* tuned) {
  return Exporter(g, m, arch, tuned).source(model_path, arch_path);
}

namespace {

// DIR's program must be this model quantized this way for this arch: same arch fingerprint,
// same layer names in order, same input/output scales (the activation calibration).
void check_tuned_program(const Program& p, const q::QModel& qm, const ArchSpec& arch, const std::string& dir) {
  if (p.arch_fingerprint != arch_fingerprint(arch))
    throw InputError(dir + ": its program was compiled for another architecture than --arch with "
                     "adc.range calibrated (arch fingerprints differ); calibrate with this arch");
  std::vector<std::string> names;
  for (const q::Layer& l : qm.layers) names.push_back(l.name);
  if (p.layers != names)
    throw InputError(dir + ": its program's layers (" + std::to_string(p.layers.size()) +
                     ") are not the model's (" + std::to_string(names.size()) +
                     "): calibrate was run on another model");
  auto check_io = [&](const std::vector<TensorIO>& io, const std::vector<int>& ids, const char* what) {
    if (io.size() != ids.size())
      throw InputError(dir + ": its program has " + std::to_string(io.size()) + " " + what + ", the model " +
                       std::to_string(ids.size()));
    for (size_t i = 0; i < io.size(); ++i)
      if (std::memcmp(&io[i].scale, &qm.tensors[ids[i]].scale, sizeof(float)) != 0)
        throw InputError(dir + ": " + what + " '" + io[i].name + "' has scale " + py_num(io[i].scale) +
                         " in its program, " + py_num(qm.tensors[ids[i]].scale) +
                         " here: use the same --calibration (and --weights) as calibrate");
  };
  check_io(p.inputs, qm.inputs, "inputs");
  check_io(p.outputs, qm.outputs, "outputs");
}

}  // namespace

void export_training(const ExportTrainingOptions& opt, std::ostream& log) {
  if (opt.out_path.empty()) throw InputError("export-training: no output file given (-o)");
  ArchSpec arch = load_arch_spec(opt.arch_path);
  // What calibrate compiled for: the base arch with adc.range calibrated (calibrate.h).
  if (!opt.tuned_dir.empty()) arch.adc.range = AdcRangePolicy::kCalibrated;
  ir::Graph g = frontend::load_onnx(opt.model_path);
  frontend::simplify(g);
  if (!opt.weights_path.empty()) frontend::apply_trained_weights(g, opt.weights_path);
  if (!opt.calibration_path.empty() && g.inputs.size() != 1)
    throw InputError(opt.calibration_path + ": calibration data is one tensor, the model has " +
                     std::to_string(g.inputs.size()) + " inputs");
  const q::QModel qm = quant::quantize(g, arch.quantization, load_calibration(opt.calibration_path));
  Program tuned;
  if (!opt.tuned_dir.empty()) {
    if (arch.adc.lossless)
      throw InputError(opt.arch_path + ": adc.lossless has no ADC range to tune; drop --tuned");
    tuned = read_program_dir(opt.tuned_dir);
    check_tuned_program(tuned, qm, arch, opt.tuned_dir);
  }
  const std::string text = torch_module_source(g, qm, arch, opt.model_path, opt.arch_path,
                                               opt.tuned_dir.empty() ? nullptr : &tuned);
  const std::string tmp = opt.out_path + ".cimsim-tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(opt.out_path + ": cannot write the module");
    f << text;
    if (!f) {
      std::remove(tmp.c_str());
      throw InputError(opt.out_path + ": cannot write the module");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, opt.out_path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw InputError(opt.out_path + ": cannot write the module (" + ec.message() + ")");
  }
  log << "exported " << (qm.name.empty() ? opt.model_path : qm.name) << ": " << qm.layers.size() << " layers, "
      << frontend::trainable_constants(g).size() << " trainable tensors -> " << opt.out_path << "\n";
}

}  // namespace cimsim
