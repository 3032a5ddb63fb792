// Point runner (sweep_point.h).
#include "platform/sweep/sweep_point.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/backend/driver.h"
#include "platform/spec/directory_replace.h"
#include "platform/vp/simulate.h"

namespace cimsim::sweep {
namespace fs = std::filesystem;
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A value as written in the spec, typed for JSON: numbers and booleans as such.
nlohmann::json typed_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (!text.empty()) {
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (*end == '\0' && errno != ERANGE) return i;
    const double d = std::strtod(text.c_str(), &end);
    if (*end == '\0' && std::isfinite(d)) return d;
  }
  return text;
}

nlohmann::json row_base(const SweepPoint& point) {
  nlohmann::json row;
  row["index"] = point.index;
  row["key"] = point.key;
  row["model"] = point.model_label;
  row["mode"] = point.mode;
  nlohmann::json values = nlohmann::json::array();
  for (const auto& [k, v] : point.values) values.push_back({{"axis", k}, {"value", typed_value(v)}});
  row["values"] = values;
  return row;
}

nlohmann::json metrics(const nlohmann::json& report, const SweepPoint& point) {
  const double latency_ns = report.at("latency_ns").get<double>();
  const double energy_pj = report.at("energy_pj").at("total").get<double>();
  nlohmann::json m;
  m["latency_ns"] = latency_ns;
  m["cycles"] = report.at("cycles");
  m["batch"] = report.at("batch");
  m["throughput_inferences_per_s"] = report.at("throughput_inferences_per_s");
  m["energy_pj"] = energy_pj;
  m["area_um2"] = report.at("area_um2").at("total");
  m["peak_power_mw"] = derive(point.arch).peak_power_mw;
  m["average_power_mw"] = latency_ns > 0 ? energy_pj / latency_ns : 0.0;  // pJ / ns = mW
  m["instructions_executed"] = report.at("instructions_executed");
  return m;
}

}  // namespace

std::string point_name(size_t index) { return fmt::format("{:04}", index); }

std::string point_dir(const SweepSpec& spec, size_t index) {
  return spec.output_dir + "/points/" + point_name(index);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw InputError(path + ": cannot write the file");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(path + ": cannot write the file (" + ec.message() + ")");
  }
}

void ensure_sweep_input(const SweepSpec& spec) {
  if (!spec.input_path.empty()) return;
  const std::vector<uint8_t> bytes = encode_npy(sweep_input(spec));
  const std::string path = sweep_input_path(spec);
  const std::string want(bytes.begin(), bytes.end());
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && read_text(path) == want) return;
  fs::create_directories(spec.output_dir, ec);
  write_file_atomically(path, want);
}

nlohmann::json failed_row(const SweepPoint& point, const std::string& error) {
  nlohmann::json row = row_base(point);
  row["status"] = "failed";
  row["error"] = error;
  return row;
}

void write_point_row(const SweepSpec& spec, const SweepPoint& point, const nlohmann::json& row) {
  const std::string dir = point_dir(spec, point.index);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create the directory (" + ec.message() + ")");
  write_file_atomically(dir + "/row.json", row.dump(2) + "\n");
}

PointOutcome run_point(const SweepSpec& spec, const SweepPoint& point) {
  const std::string points = spec.output_dir + "/points";
  const std::string name = point_name(point.index);
  const std::string final_dir = points + "/" + name;
  const std::string staging = fmt::format("{}/.{}.tmp-{}", points, name, ::getpid());
  std::error_code ec;
  fs::create_directories(points, ec);
  if (ec) throw InputError(points + ": cannot create the directory (" + ec.message() + ")");
  // Leftovers of this point's earlier, interrupted runs (one process runs a point at a time).
  for (const auto& entry : fs::directory_iterator(points, ec))
    if (entry.path().filename().string().rfind("." + name + ".tmp-", 0) == 0) fs::remove_all(entry.path(), ec);
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) throw InputError(staging + ": cannot create the directory (" + ec.message() + ")");

  auto relative = [&](std::string text) {
    replace_all(text, staging, "points/" + name);
    replace_all(text, spec.output_dir + "/", "");
    return text;
  };
  std::ostringstream log;
  nlohmann::json row;
  PointOutcome outcome = PointOutcome::kOk;
  try {
    std::ofstream(staging + "/arch.yaml", std::ios::binary) << point.arch_yaml;
    ensure_sweep_input(spec);
    CompileOptions c;
    c.model_path = point.model_path;
    c.arch_path = staging + "/arch.yaml";
    c.out_dir = staging + "/program";
    c.calibration_path = spec.calibration_path;
    c.mode = point.mode;
    compile(c, log);
    SimulateOptions s;
    s.program_dir = staging + "/program";
    s.input_path = sweep_input_path(spec);
    s.output_path = staging + "/output.npy";
    s.report_path = staging + "/report.json";
    s.seed = point.seed;
    s.quiet = true;
    const SimulateResult r = simulate(s, log, log);
    if (!r.finished) throw InputError("the simulation did not finish");
    row = row_base(point);
    row["status"] = "ok";
    row["metrics"] = metrics(r.report, point);
    if (!spec.keep_programs) fs::remove_all(staging + "/program", ec);
  } catch (const InputError& e) {
    outcome = PointOutcome::kFailed;
    row = failed_row(point, relative(e.what()));
  } catch (const std::exception& e) {
    outcome = PointOutcome::kInternalError;
    row = failed_row(point, relative(std::string("internal error: ") + e.what()));
  }
  std::string log_text = log.str();
  replace_all(log_text, staging, final_dir);
  std::ofstream(staging + "/log.txt", std::ios::binary) << log_text;
  {
    std::ofstream out(staging + "/row.json", std::ios::binary);
    out << row.dump(2) << "\n";
    if (!out.flush()) throw InputError(staging + "/row.json: cannot write the file");
  }
  try {
    replace_directory(staging, final_dir);
  } catch (const InputError&) {
    fs::remove_all(staging, ec);
    throw;
  }
  return outcome;
}

std::optional<nlohmann::json> read_point_row(const SweepSpec& spec, const SweepPoint& point) {
  const std::string path = point_dir(spec, point.index) + "/row.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  nlohmann::json row = nlohmann::json::parse(read_text(path), nullptr, false);
  if (row.is_discarded() || !row.is_object() || row.value("key", "") != point.key) return std::nullopt;
  return row;
}

bool point_complete(const SweepSpec& spec, const SweepPoint& point) {
  const auto row = read_point_row(spec, point);
  if (!row || row->value("status", "") != "ok" || !row->contains("metrics")) return false;
  const std::string report = point_dir(spec, point.index) + "/report.json";
  std::error_code ec;
  if (!fs::is_regular_file(report, ec)) return false;
  const nlohmann::json r = nlohmann::json::parse(read_text(report), nullptr, false);
  return !r.is_discarded() && r.is_object() && r.contains("latency_ns");
}

}  // namespace cimsim::sweep
