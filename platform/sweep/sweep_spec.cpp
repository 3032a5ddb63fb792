// SPEC.yaml loading and point expansion (sweep_spec.h). The arch side is delegated to
// arch_edit.h so that a point's architecture is validated exactly like an architecture file.
#include "platform/sweep/sweep_spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "platform/spec/arch_keys.h"

namespace cimsim::sweep {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {"model", "arch",  "input", "input_shape", "input_seed",
                                                "calibration", "mode", "seed", "output", "axes", "zip",
                                                "keep_programs"};
  return keys;
}

class SpecReader {
 public:
  explicit SpecReader(std::string name) : name_(std::move(name)) {}

  std::string where(const YAML::Mark& m) const {
    return fmt::format("{}:{}:{}", name_, m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1);
  }
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    throw InputError(where(m) + ": " + msg);
  }

  std::string scalar(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n.Mark(), what + ": expected a single value, not a list or mapping");
    return n.Scalar();
  }

  uint64_t unsigned_value(const YAML::Node& n, const std::string& what) const {
    const std::string s = scalar(n, what);
    return parse_unsigned(s, n.Mark(), what);
  }

  uint64_t parse_unsigned(const std::string& s, const YAML::Mark& m, const std::string& what) const {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || s[0] == '+' || *end != '\0' || errno == ERANGE)
      fail(m, fmt::format("{}: expected an unsigned integer, got '{}'", what, s));
    return v;
  }

  std::string mode_value(const std::string& s, const YAML::Mark& m, const std::string& what) const {
    if (s != "latency" && s != "throughput")
      fail(m, fmt::format("{}: expected latency or throughput, got '{}'", what, s));
    return s;
  }

  std::vector<YAML::Node> list(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence() || n.size() == 0)
      fail(n.Mark(), what + ": expected a non-empty list of values, e.g. [32, 64]");
    std::vector<YAML::Node> out;
    for (const auto& v : n) out.push_back(v);
    return out;
  }

 private:
  std::string name_;
};

std::string resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : base / path).lexically_normal().string();
}

void require_file(const SpecReader& r, const YAML::Node& n, const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    r.fail(n.Mark(), fmt::format("{}: {}: no such file", key, path));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FNV-1a 64: a stable digest (not a security hash) for stale-result detection.
struct Digest {
  uint64_t h = 1469598103934665603ull;
  void add(const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    add_separator();
  }
  void add_separator() {
    h ^= 0xff;
    h *= 1099511628211ull;
  }
  std::string hex() const { return fmt::format("{:016x}", h); }
};

void check_axis_name(const SpecReader& r, const YAML::Node& key_node, const std::string& name) {
  const auto& knobs = sweep_knob_names();
  if (std::find(knobs.begin(), knobs.end(), name) != knobs.end()) return;
  const auto& paths = arch_override_paths();
  if (std::find(paths.begin(), paths.end(), name) != paths.end()) return;
  std::vector<std::string> all = paths;
  all.insert(all.end(), knobs.begin(), knobs.end());
  const std::string hint = arch_keys::closest(name, all);
  r.fail(key_node.Mark(),
         fmt::format("unknown axis '{}'{}; an axis is an architecture key section.key (docs/config.md), "
                     "costs.COMPONENT.FIELD, or one of mode, model, seed",
                     name, hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

// Values of the knob axes are checked here, so that a typo fails at expansion, not at run time.
void check_knob_value(const SpecReader& r, const fs::path& base, const std::string& axis, const YAML::Node& v) {
  const std::string what = "axes." + axis;
  const std::string s = r.scalar(v, what);
  if (axis == "mode") r.mode_value(s, v.Mark(), what);
  if (axis == "seed") r.parse_unsigned(s, v.Mark(), what);
  if (axis == "model") require_file(r, v, what, resolve(base, s));
}

}  // namespace

std::string point_values_text(const SweepPoint& p) {
  std::string s;
  for (const auto& [k, v] : p.values) s += (s.empty() ? "" : ", ") + k + " = " + v;
  return s.empty() ? "no axes" : s;
}

const std::vector<std::string>& sweep_knob_names() {
  static const std::vector<std::string> names = {"mode", "model", "seed"};
  return names;
}

SweepSpec load_sweep_spec(const std::string& path, const std::string& output_override) {
  SweepSpec spec;
  spec.spec_path = path;
  SpecReader r(path);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path + ": no such sweep spec file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    r.fail(e.mark, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": cannot read the sweep spec (" + e.msg + ")");
  }
  if (!root.IsMap()) r.fail(root.Mark(), "expected a mapping of sweep keys (model, arch, input, axes, ...)");
  const fs::path base = fs::absolute(path).parent_path();

  std::map<std::string, YAML::Node> keys;
  std::map<std::string, YAML::Mark> key_marks;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string k = it->first.Scalar();
    const auto& allowed = top_level_keys();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      const std::string hint = arch_keys::closest(k, allowed);
      r.fail(it->first.Mark(), fmt::format("unknown sweep key '{}'{}; keys are model, arch, input, input_shape, "
                                           "input_seed, calibration, mode, seed, output, axes, zip, keep_programs",
                                           k, hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (keys.count(k)) r.fail(it->first.Mark(), "duplicate key '" + k + "'");
    keys[k] = it->second;
    key_marks[k] = it->first.Mark();
  }
  auto get = [&](const std::string& k) -> const YAML::Node* {
    auto it = keys.find(k);
    return it == keys.end() ? nullptr : &it->second;
  };

  // Axes and zip groups first: they decide which top-level knobs are required.
  std::set<std::string> axis_names;
  auto add_dimension_group = [&](const YAML::Node& group, const std::string& what, bool zipped) {
    if (!group.IsMap() || group.size() == 0)
      r.fail(group.Mark(), what + ": expected a mapping of axis names to value lists");
    std::vector<size_t> dim;
    size_t length = 0;
    for (auto it = group.begin(); it != group.end(); ++it) {
      const std::string name = it->first.Scalar();
      check_axis_name(r, it->first, name);
      if (!axis_names.insert(name).second)
        r.fail(it->first.Mark(), fmt::format("axis '{}' is swept twice (in axes and/or zip groups)", name));
      if (keys.count(name))
        r.fail(it->first.Mark(), fmt::format("'{}' is both a top-level key and an axis; give it in one place", name));
      SweepAxis axis;
      axis.name = name;
      for (const auto& v : r.list(it->second, what + "." + name)) {
        if (std::find(sweep_knob_names().begin(), sweep_knob_names().end(), name) != sweep_knob_names().end())
          check_knob_value(r, base, name, v);
        axis.values.push_back(r.scalar(v, what + "." + name));
        axis.origins.push_back(r.where(v.Mark()));
      }
      if (zipped && !dim.empty() && axis.values.size() != length)
        r.fail(it->second.Mark(),
               fmt::format("{}.{}: {} values, but the other lists of this zip group have {}; zipped lists "
                           "advance together and need the same length",
                           what, name, axis.values.size(), length));
      length = axis.values.size();
      spec.axes.push_back(axis);
      dim.push_back(spec.axes.size() - 1);
      if (!zipped) {
        spec.dims.push_back(dim);
        dim.clear();
      }
    }
    if (zipped) spec.dims.push_back(dim);
  };
  if (const YAML::Node* axes = get("axes")) add_dimension_group(*axes, "axes", false);
  if (const YAML::Node* zip = get("zip")) {
    if (!zip->IsSequence() || zip->size() == 0)
      r.fail(zip->Mark(), "zip: expected a list of groups, each a mapping of axis names to equally long lists");
    size_t g = 0;
    for (const auto& group : *zip) add_dimension_group(group, fmt::format("zip[{}]", g++), true);
  }

  auto required = [&](const std::string& k, const std::string& why) -> const YAML::Node& {
    const YAML::Node* n = get(k);
    if (!n) r.fail(root.Mark(), fmt::format("missing key '{}' ({})", k, why));
    return *n;
  };

  const YAML::Node& arch = required("arch", "the base architecture YAML");
  spec.arch_path = resolve(base, r.scalar(arch, "arch"));
  require_file(r, arch, "arch", spec.arch_path);
  spec.base_arch = load_arch_spec(spec.arch_path);

  if (!axis_names.count("model")) {
    const YAML::Node& model = required("model", "the ONNX model, or an axis 'model' listing several");
    spec.model_path = resolve(base, r.scalar(model, "model"));
    require_file(r, model, "model", spec.model_path);
  }

  const YAML::Node* input = get("input");
  const YAML::Node* shape = get("input_shape");
  if (input && shape) r.fail(key_marks["input_shape"], "give either input (a .npy) or input_shape, not both");
  if (!input && !shape)
    r.fail(root.Mark(), "missing key 'input' (a .npy input batch) or 'input_shape' (a generated input, e.g. [1, 3, 8, 8])");
  if (input) {
    spec.input_path = resolve(base, r.scalar(*input, "input"));
    require_file(r, *input, "input", spec.input_path);
    read_npy(spec.input_path);  // a bad file fails now, not in every point
  } else {
    if (!shape->IsSequence() || shape->size() < 2 || shape->size() > 5)
      r.fail(shape->Mark(), "input_shape: expected a list of 2 to 5 dimensions, batch first, e.g. [1, 3, 8, 8]");
    uint64_t elements = 1;
    for (const auto& d : *shape) {
      const uint64_t v = r.unsigned_value(d, "input_shape");
      if (v == 0 || v > (1u << 20)) r.fail(d.Mark(), "input_shape: each dimension must be in 1..1048576");
      elements *= v;
      if (elements > (1ull << 28)) r.fail(d.Mark(), "input_shape: more than 2^28 elements");
      spec.input_shape.push_back(static_cast<int64_t>(v));
    }
    if (const YAML::Node* s = get("input_seed")) spec.input_seed = r.unsigned_value(*s, "input_seed");
  }
  if (input && get("input_seed")) r.fail(key_marks["input_seed"], "input_seed applies to input_shape only");

  if (const YAML::Node* c = get("calibration")) {
    spec.calibration_path = resolve(base, r.scalar(*c, "calibration"));
    require_file(r, *c, "calibration", spec.calibration_path);
  }
  if (const YAML::Node* m = get("mode")) spec.mode = r.mode_value(r.scalar(*m, "mode"), m->Mark(), "mode");
  if (const YAML::Node* s = get("seed")) spec.seed = r.unsigned_value(*s, "seed");
  if (const YAML::Node* k = get("keep_programs")) {
    const std::string v = r.scalar(*k, "keep_programs");
    if (v != "true" && v != "false") r.fail(k->Mark(), "keep_programs: expected true or false, got '" + v + "'");
    spec.keep_programs = v == "true";
  }

  if (!output_override.empty()) {
    spec.output_dir = fs::absolute(output_override).lexically_normal().string();
  } else {
    const YAML::Node& out = required("output", "the sweep's output directory; or pass -o DIR");
    spec.output_dir = resolve(base, r.scalar(out, "output"));
  }
  while (spec.output_dir.size() > 1 && spec.output_dir.back() == '/') spec.output_dir.pop_back();
  return spec;
}

NpyArray sweep_input(const SweepSpec& spec) {
  if (!spec.input_path.empty()) return read_npy(spec.input_path);
  NpyArray a;
  a.shape = spec.input_shape;
  size_t n = 1;
  for (int64_t d : a.shape) n *= static_cast<size_t>(d);
  a.data.resize(n);
  uint64_t state = spec.input_seed;
  for (float& v : a.data) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    // 24 random bits -> an exactly representable float in [-1, 1).
    v = static_cast<float>(static_cast<double>(z >> 40) / 8388608.0 - 1.0);
  }
  return a;
}

std::string sweep_input_path(const SweepSpec& spec) {
  return spec.input_path.empty() ? spec.output_dir + "/input.npy" : spec.input_path;
}

size_t sweep_size(const SweepSpec& spec) {
  size_t total = 1;
  for (const auto& dim : spec.dims) {
    const size_t len = spec.axes[dim.front()].values.size();
    if (total > 1000000 / len) throw InputError(spec.spec_path + ": more than 1000000 points; split the sweep");
    total *= len;
  }
  return total;
}

class PointExpander {
 public:
  explicit PointExpander(const SweepSpec& spec) : spec_(spec), base_(fs::absolute(spec.spec_path).parent_path()) {
    if (!spec.input_path.empty()) input_desc_ = "file:" + file_digest(spec.input_path);
    else input_desc_ = fmt::format("generated:{}:{}", fmt::join(spec.input_shape, "x"), spec.input_seed);
  }

  SweepPoint point(size_t index) {
    const SweepSpec& spec = spec_;
    SweepPoint p;
    p.index = index;
    p.model_path = spec.model_path;
    p.model_label = spec.model_path.empty() ? "" : fs::path(spec.model_path).filename().string();
    p.mode = spec.mode;
    p.seed = spec.seed;
    // Mixed radix, last dimension fastest.
    std::vector<size_t> choice(spec.dims.size());
    size_t rest = index;
    for (size_t d = spec.dims.size(); d-- > 0;) {
      const size_t len = spec.axes[spec.dims[d].front()].values.size();
      choice[d] = rest % len;
      rest /= len;
    }
    for (size_t d = 0; d < spec.dims.size(); ++d) {
      for (size_t a : spec.dims[d]) {
        const SweepAxis& axis = spec.axes[a];
        const std::string& value = axis.values[choice[d]];
        p.values.emplace_back(axis.name, value);
        if (axis.name == "mode") p.mode = value;
        else if (axis.name == "seed") p.seed = std::strtoull(value.c_str(), nullptr, 10);
        else if (axis.name == "model") {
          p.model_path = resolve(base_, value);
          p.model_label = value;
        } else p.overrides.push_back({axis.name, value, axis.origins[choice[d]]});
      }
    }
    const std::string values = point_values_text(p);
    const std::string name = fmt::format("{} point {} ({})", spec.spec_path, index, values);
    try {
      p.arch = p.overrides.empty() ? spec.base_arch : apply_arch_overrides(spec.base_arch, p.overrides, name);
    } catch (const InputError& e) {
      const std::string what = e.what();
      // apply_arch_overrides names either the override's origin or `name`; make sure the point is named.
      throw InputError(what.rfind(name, 0) == 0 ? what : name + ": " + what);
    }
    p.arch_yaml = arch_to_yaml(
        p.arch, fmt::format("Architecture of sweep point {} of {}: {} with {}\nGenerated by cimsim sweep; "
                            "loadable with cimsim arch.",
                            index, fs::path(spec.spec_path).filename().string(),
                            fs::path(spec.arch_path).filename().string(), values));
    Digest d;
    d.add(p.arch_yaml);
    d.add(file_digest(p.model_path));
    d.add(input_desc_);
    d.add(spec.calibration_path.empty() ? "" : file_digest(spec.calibration_path));
    d.add(p.mode);
    d.add(p.seed ? std::to_string(*p.seed) : "arch");
    p.key = d.hex();
    return p;
  }

 private:
  std::string file_digest(const std::string& path) {
    auto it = digests_.find(path);
    if (it != digests_.end()) return it->second;
    Digest d;
    d.add(read_bytes(path));
    return digests_[path] = d.hex();
  }

  const SweepSpec& spec_;
  fs::path base_;
  std::string input_desc_;
  std::map<std::string, std::string> digests_;  // file -> digest of its bytes
};

std::vector<SweepPoint> expand_sweep(const SweepSpec& spec) {
  const size_t total = sweep_size(spec);
  PointExpander expander(spec);
  std::vector<SweepPoint> points;
  points.reserve(total);
  for (size_t index = 0; index < total; ++index) points.push_back(expander.point(index));
  return points;
}

SweepPoint expand_point(const SweepSpec& spec, size_t index) {
  const size_t total = sweep_size(spec);
  if (index >= total)
    throw InputError(fmt::format("--point {}: the sweep {} has points 0..{}", index, spec.spec_path, total - 1));
  return PointExpander(spec).point(index);
}

}  // namespace cimsim::sweep
