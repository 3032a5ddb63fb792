// Search space: the default knobs, the SPACE.yaml reader, genome -> overrides.
#include "platform/synth/space.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <sstream>

#include "platform/spec/arch_keys.h"
#include "platform/spec/converter_cost_scaling.h"

namespace cimsim::synth {
namespace {

std::string mark(const std::string& file, const YAML::Mark& m) {
  return fmt::format("{}:{}:{}", file, m.line + 1, m.column + 1);
}

constexpr const char* kReplicasPrefix = "compile.replicas.";
constexpr const char* kReplicasWildcard = "compile.replicas.*";

bool is_compile_knob(const std::string& path) {
  const auto& k = compile_knob_paths();
  return is_replicas_knob(path) || std::find(k.begin(), k.end(), path) != k.end();
}

std::string replicas_layer(const std::string& path) { return path.substr(std::string(kReplicasPrefix).size()); }

// A replica count choice: an integer >= 1 (0 when it is not one).
int64_t replica_count(const std::string& text) {
  char* end = nullptr;
  const long long n = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  return text.empty() || *end != '\0' || n < 1 ? 0 : n;
}

const LayerShape* matrix_layer(const NetShape& net, const std::string& name) {
  for (const LayerShape& L : net.layers)
    if (L.name == name && L.kind == q::LayerKind::kConv) return &L;
  return nullptr;
}

bool has_knob(const SearchSpace& s, const std::string& path) {
  return std::any_of(s.knobs.begin(), s.knobs.end(), [&](const Knob& k) { return k.path == path; });
}

}  // namespace

double SearchSpace::points() const {
  double n = 1;
  for (const Knob& k : knobs) n *= double(k.choices.size());
  return n;
}

// The knobs: crossbar size, cell bits, DAC bits, ADC bits and sharing, PEs per core,
// cores, NoC width. ISAAC's own values are among the choices, so the base is a point of the
// space. adc.bits is priced by the base's adc.cost_scaling (configs/isaac.yaml: saberi_sar);
// its choices are the resolutions some combination of the other knobs can use without
// clipping: 6 bits (64 rows of 1-bit cells, with ISAAC's flip) to 10 (4-bit cells or 2-bit
// DAC steps on 128 rows). 4 and 5 bits would clip on every crossbar of this space. dac.bits
// is priced by the base's dac.cost_scaling (configs/isaac.yaml: mnsim, a 2-bit drive at twice
// the 1-bit power). core.buffer_bytes is priced by the base's core.buffer_cost_scaling
// (configs/isaac.yaml: puma_edram); a smaller buffer is cheaper but spills more (the
// estimator models the compiler's spilling), so ISAAC's 64 KB is one choice among four.
SearchSpace default_space() {
  SearchSpace s;
  auto add = [&](const std::string& path, std::vector<std::string> choices) {
    s.knobs.push_back({path, std::move(choices), "default space", {}});
  };
  add("crossbar.rows", {"64", "128", "256"});
  add("crossbar.cols", {"64", "128", "256"});
  add("crossbar.cell_bits", {"1", "2", "4"});
  add("dac.bits", {"1", "2"});
  add("adc.bits", {"6", "7", "8", "9", "10"});
  add("pe.adcs", {"1", "2", "4", "8"});
  add("core.pes", {"4", "8", "12", "16"});
  add("chip.cores", {"32", "48", "64", "96", "128", "168"});
  add("noc.flit_bytes", {"4", "8", "16"});
  add("compile.replication", {"0", "0.5", "1"});
  add("core.buffer_bytes", {"16384", "32768", "65536", "131072"});
  return s;
}

SearchSpace default_space(const ArchSpec& base) {
  SearchSpace s = default_space();
  const bool drop_adc = !cost_follows_bits(base, "adc") || base.adc.lossless;
  const bool drop_dac = !cost_follows_bits(base, "dac");
  const bool drop_buffer = !cost_follows_buffer_bytes(base);
  s.knobs.erase(std::remove_if(s.knobs.begin(), s.knobs.end(),
                               [&](const Knob& k) {
                                 return (drop_adc && k.path == "adc.bits") || (drop_dac && k.path == "dac.bits") ||
                                        (drop_buffer && k.path == "core.buffer_bytes");
                               }),
                s.knobs.end());
  return s;
}

bool cost_follows_bits(const ArchSpec& base, const std::string& converter) {
  // Asked of the loader itself rather than of <converter>.cost_scaling: an SRAM macro's ADC
  // and DAC costs follow their bits through the macro model, without any scaling key.
  const std::string key = converter + ".bits";
  const int bits = converter == "adc" ? base.adc.bits : base.dac.bits;
  const auto energy_pj = [&](int b) {
    try {
      return apply_arch_overrides(base, {{key, std::to_string(b), "cost_follows_bits"}}, "base")
          .costs.at(converter)
          .energy_pj;
    } catch (const InputError&) {
      return -1.0;  // outside what the base can price (e.g. the scaling table)
    }
  };
  const double here = base.costs.at(converter).energy_pj;
  for (int b : {bits - 1, bits + 1}) {
    const double there = energy_pj(b);
    if (there >= 0 && there != here) return true;
  }
  return false;
}

bool cost_follows_buffer_bytes(const ArchSpec& base) {
  // Asked of the loader, like cost_follows_bits(): half and twice the base's capacity.
  const double here = base.costs.at("buffer").energy_pj;
  for (int64_t bytes : {base.core.buffer_bytes / 2, base.core.buffer_bytes * 2}) {
    try {
      if (apply_arch_overrides(base, {{"core.buffer_bytes", std::to_string(bytes), "cost_follows_buffer_bytes"}},
                               "base")
              .costs.at("buffer")
              .energy_pj != here)
        return true;
    } catch (const InputError&) {
      // outside what the base can price
    }
  }
  return false;
}

SearchSpace load_space(const std::string& path, const ArchSpec& base, const NetShape* net) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot read the search space file");
  std::stringstream ss;
  ss << f.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: {}", mark(path, e.mark), e.msg));
  }
  if (!root.IsMap() || root.size() == 0)
    throw InputError(path + ": expected a mapping of `section.key: [choices]` (docs/synthesis.md)");
  SearchSpace s;
  std::vector<std::string> paths = arch_override_paths();
  for (const std::string& k : compile_knob_paths()) paths.push_back(k);
  std::vector<std::string> matrix_names;
  if (net)
    for (const LayerShape& L : net->layers)
      if (L.kind == q::LayerKind::kConv) matrix_names.push_back(L.name);
  const Knob* wildcard = nullptr;
  Knob wildcard_knob;
  std::string replication_at, replicas_at;  // where each kind of replication knob was listed
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const std::string at = mark(path, kv.first.Mark());
    const bool replicas = key.rfind(kReplicasPrefix, 0) == 0;
    if (replicas) {
      if (!net)
        throw InputError(fmt::format("{}: {}: per-layer replica knobs need the model (cimsim synthesize)", at, key));
      const std::string layer = replicas_layer(key);
      if (key != kReplicasWildcard && !matrix_layer(*net, layer)) {
        const bool exists = std::any_of(net->layers.begin(), net->layers.end(),
                                        [&](const LayerShape& L) { return L.name == layer; });
        const std::string hint = arch_keys::closest(layer, matrix_names);
        throw InputError(fmt::format(
            "{}: search key '{}': {} '{}' of {}{}; expected compile.replicas.LAYER with a matrix (conv/FC) layer "
            "or compile.replicas.*",
            at, key, exists ? "not a matrix layer:" : "no layer", layer, net->model_name,
            hint.empty() ? "" : " (did you mean 'compile.replicas." + hint + "'?)"));
      }
      if (replicas_at.empty()) replicas_at = at;
    } else if (key == "compile.replication") {
      replication_at = at;
    }
    if (!replication_at.empty() && !replicas_at.empty())
      throw InputError(fmt::format("{}: compile.replication and compile.replicas.* exclude each other (listed at "
                                   "{} and {}): explicit counts replace the rule the share caps",
                                   at, replication_at, replicas_at));
    if (!replicas && std::find(paths.begin(), paths.end(), key) == paths.end()) {
      const std::string hint = arch_keys::closest(key, paths);
      throw InputError(fmt::format("{}: unknown search key '{}'{}; keys are architecture paths "
                                   "section.key (docs/config.md), costs.COMPONENT.FIELD, compile.replication or "
                                   "compile.replicas.LAYER",
                                   at, key, hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (has_knob(s, key) || (key == kReplicasWildcard && wildcard))
      throw InputError(fmt::format("{}: search key '{}' is listed twice", at, key));
    const YAML::Node& v = kv.second;
    if (!v.IsSequence() || v.size() == 0)
      throw InputError(fmt::format("{}: {}: expected a non-empty list of choices, e.g. [64, 128]",
                                   mark(path, v.Mark()), key));
    Knob k{key, {}, at, {}};
    for (const auto& c : v) {
      if (!c.IsScalar())
        throw InputError(fmt::format("{}: {}: a choice must be a single value", mark(path, c.Mark()), key));
      const std::string text = c.Scalar();
      if (std::find(k.choices.begin(), k.choices.end(), text) != k.choices.end())
        throw InputError(fmt::format("{}: {}: choice {} is listed twice", mark(path, c.Mark()), key, text));
      if (replicas && key != kReplicasWildcard) {
        const int64_t rows = matrix_layer(*net, replicas_layer(key))->win.OH;
        if (replica_count(text) > rows)
          throw InputError(fmt::format("{}: {}: {} replicas exceed the layer's {} output rows (a replica computes "
                                       "whole rows)",
                                       mark(path, c.Mark()), key, text, rows));
      }
      k.choices.push_back(text);
      k.choice_origins.push_back(mark(path, c.Mark()));
    }
    if (key == kReplicasWildcard) {
      wildcard_knob = std::move(k);
      wildcard = &wildcard_knob;
      continue;
    }
    s.knobs.push_back(std::move(k));
  }
  if (wildcard) {
    // One knob per matrix layer not listed by name, with the choices its rows allow.
    for (const LayerShape& L : net->layers) {
      if (L.kind != q::LayerKind::kConv || has_knob(s, kReplicasPrefix + L.name)) continue;
      Knob k{kReplicasPrefix + L.name, {}, wildcard->origin, {}};
      for (size_t i = 0; i < wildcard->choices.size(); ++i) {
        const int64_t n = replica_count(wildcard->choices[i]);
        if (n == 0 || n <= L.win.OH) {  // a malformed choice stays, for check_space to name
          k.choices.push_back(wildcard->choices[i]);
          k.choice_origins.push_back(wildcard->choice_origins[i]);
        }
      }
      if (!k.choices.empty()) s.knobs.push_back(std::move(k));
    }
    if (!std::any_of(s.knobs.begin(), s.knobs.end(), [](const Knob& k) { return is_replicas_knob(k.path); }))
      throw InputError(fmt::format("{}: {}: no matrix layer of {} has as many output rows as any of these choices",
                                   wildcard->origin, kReplicasWildcard, net->model_name));
  }
  check_space(s, base);
  return s;
}

void check_space(const SearchSpace& space, const ArchSpec& base) {
  const bool mesh_given = has_knob(space, "chip.mesh_rows") || has_knob(space, "chip.mesh_cols");
  for (const Knob& k : space.knobs)
    if ((k.path == "adc.bits" || k.path == "dac.bits") && k.choices.size() > 1 &&
        !cost_follows_bits(base, k.path.substr(0, 3))) {
      const std::string v = k.path.substr(0, 3);
      throw InputError(fmt::format(
          "{0}: {1}.bits is searched, but the base {2} prices every resolution the same (costs.{1} "
          "does not follow {1}.bits); expected {1}.cost_scaling: {3} with "
          "{1}.cost_reference_bits in the base (configs/isaac.yaml, docs/config.md), or one choice",
          k.origin, v, base.source_path.empty() ? "architecture" : base.source_path,
          (v == "adc" ? saberi_sar_table() : mnsim_dac_table()).rule));
    } else if (k.path == "adc.bits" && k.choices.size() > 1 && base.adc.lossless)
      throw InputError(fmt::format(
          "{}: adc.bits is searched, but the base {} has adc.lossless: true, an ADC that never "
          "clips: fewer bits would only look cheaper; expected adc.lossless: false, or one choice",
          k.origin, base.source_path.empty() ? "architecture" : base.source_path));
  for (const Knob& k : space.knobs)
    for (size_t i = 0; i < k.choices.size(); ++i) {
      const std::string& c = k.choices[i];
      const std::string& at = i < k.choice_origins.size() ? k.choice_origins[i] : k.origin;
      if (is_replicas_knob(k.path)) {
        if (replica_count(c) == 0)
          throw InputError(fmt::format("{}: {} = {}: expected a replica count, an integer >= 1", at, k.path, c));
        continue;
      }
      if (is_compile_knob(k.path)) {
        char* end = nullptr;
        const double v = std::strtod(c.c_str(), &end);
        if (c.empty() || *end != '\0' || !(v >= 0.0 && v <= 1.0))
          throw InputError(fmt::format("{}: {} = {}: expected a share in [0, 1] (0: latency mode, no replicas)",
                                       at, k.path, c));
        continue;
      }
      std::vector<ArchOverride> o = {{k.path, c, at}};
      if (k.path == "chip.cores" && !mesh_given) {
        const auto [r, cl] = mesh_for_cores(std::atoi(c.c_str()));
        o.push_back({"chip.mesh_rows", std::to_string(r), at});
        o.push_back({"chip.mesh_cols", std::to_string(cl), at});
      }
      apply_arch_overrides(base, o, at);
    }
}

std::pair<int, int> mesh_for_cores(int cores) {
  const int n = std::max(1, cores);
  int best_r = n, best_c = 1;
  int64_t best_waste = INT64_MAX, best_skew = INT64_MAX;
  for (int c = 1; int64_t{c} * c <= 2 * int64_t{n} + 2 * c; ++c) {
    const int r = (n + c - 1) / c;
    if (r < c) break;
    if (r > 2 * c && c > 1) continue;  // square-ish: rows at most twice the columns
    const int64_t waste = int64_t{r} * c - n, skew = r - c;
    if (waste < best_waste || (waste == best_waste && skew < best_skew)) {
      best_waste = waste;
      best_skew = skew;
      best_r = r;
      best_c = c;
    }
  }
  return {best_r, best_c};
}

std::vector<ArchOverride> to_overrides(const SearchSpace& space, const std::vector<int>& genome) {
  std::vector<ArchOverride> out;
  const bool mesh_given = has_knob(space, "chip.mesh_rows") || has_knob(space, "chip.mesh_cols");
  for (size_t i = 0; i < space.knobs.size(); ++i) {
    const Knob& k = space.knobs[i];
    const std::string& v = k.choices[static_cast<size_t>(genome[i])];
    if (is_compile_knob(k.path)) continue;
    out.push_back({k.path, v, k.origin});
    if (k.path == "chip.cores" && !mesh_given) {
      const auto [r, c] = mesh_for_cores(std::atoi(v.c_str()));
      out.push_back({"chip.mesh_rows", std::to_string(r), k.origin});
      out.push_back({"chip.mesh_cols", std::to_string(c), k.origin});
    }
  }
  return out;
}

const std::vector<std::string>& compile_knob_paths() {
  static const std::vector<std::string> paths = {"compile.replication"};
  return paths;
}

bool is_replicas_knob(const std::string& path) { return path.rfind(kReplicasPrefix, 0) == 0; }

CompileChoice compile_choice_of(const SearchSpace& space, const std::vector<int>& genome) {
  CompileChoice c;
  for (size_t i = 0; i < space.knobs.size(); ++i) {
    if (is_replicas_knob(space.knobs[i].path)) {
      c.mode = "throughput";
      c.replicas[replicas_layer(space.knobs[i].path)] =
          replica_count(space.knobs[i].choices[static_cast<size_t>(genome[i])]);
      continue;
    }
    if (space.knobs[i].path != "compile.replication") continue;
    const double share = std::strtod(space.knobs[i].choices[static_cast<size_t>(genome[i])].c_str(), nullptr);
    if (share > 0) {
      c.mode = "throughput";
      c.replication = share;
    }
  }
  return c;
}

}  // namespace cimsim::synth
