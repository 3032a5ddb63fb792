// check_paths(): pairwise relations between the paths of one command line.
#include "platform/cli/output_paths.h"

#include <fmt/format.h>

#include <filesystem>

#include "platform/spec/arch.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;
using Kind = PathUse::Kind;

enum class Relation { kUnrelated, kEqual, kInside, kAbove };

Relation relation(const std::string& a, const std::string& b) {
  if (a == b) return Relation::kEqual;
  if (is_inside(a, b)) return Relation::kInside;
  if (is_inside(b, a)) return Relation::kAbove;
  return Relation::kUnrelated;
}

bool is_output(Kind k) { return k == Kind::kOutputFile || k == Kind::kOutputDir || k == Kind::kReplacedDir; }
bool is_dir(Kind k) { return k == Kind::kInputDir || k == Kind::kOutputDir || k == Kind::kReplacedDir; }

[[noreturn]] void refuse(const PathUse& a, const PathUse& b, const std::string& why) {
  throw InputError(fmt::format("{} {} and {} {}: {}", a.flag, a.path, b.flag, b.path, why));
}

// `file` (normal form) is one of the `reserved` names directly inside `dir`, or below one.
bool is_reserved_in(const std::string& file, const std::string& dir, const std::vector<std::string>& reserved) {
  for (const std::string& r : reserved) {
    const std::string p = (fs::path(dir) / r).lexically_normal().string();
    if (file == p || is_inside(p, file) || is_inside(file, p)) return true;
  }
  return false;
}

// a is a file, b a directory (either may be the output).
void check_file_dir(const PathUse& file, const std::string& f, const PathUse& dir, const std::string& d) {
  const Relation r = relation(f, d);
  if (r == Relation::kEqual || r == Relation::kAbove) {
    if (file.kind == Kind::kInputFile && dir.kind == Kind::kReplacedDir)
      refuse(file, dir, "the input would be deleted when the directory is replaced");
    if (file.kind == Kind::kOutputFile)
      refuse(file, dir, "a path cannot be both a file and a directory (or lie above one)");
    return;  // an input file that is (above) an output dir: the writer fails naming it
  }
  if (r != Relation::kInside) return;
  if (file.kind == Kind::kInputFile && dir.kind == Kind::kReplacedDir)
    refuse(file, dir, "the input is inside a directory this command replaces as a whole: it would be "
                      "deleted; move it out or pick another output directory");
  if (file.kind == Kind::kOutputFile && is_reserved_in(f, d, dir.reserved))
    refuse(file, dir, dir.kind == Kind::kInputDir
                          ? "the output would overwrite a file of the " + dir.flag + ", which this command reads"
                          : fmt::format("{} writes a file of that name into {}", dir.flag, dir.path));
}

void check_pair(const PathUse& a, const PathUse& b) {
  if (!is_output(a.kind) && !is_output(b.kind)) return;
  const std::string pa = normal_path(a.path), pb = normal_path(b.path);
  if (!is_dir(a.kind) && !is_dir(b.kind)) {
    if (pa == pb)
      refuse(a, b, a.kind == Kind::kOutputFile && b.kind == Kind::kOutputFile
                       ? "both name the same file: one would overwrite the other"
                       : "the output would overwrite the input");
    return;
  }
  if (!is_dir(a.kind)) return check_file_dir(a, pa, b, pb);
  if (!is_dir(b.kind)) return check_file_dir(b, pb, a, pa);
  // Two directories.
  const PathUse& in = a.kind == Kind::kInputDir ? a : b;
  const PathUse& other = a.kind == Kind::kInputDir ? b : a;
  if (in.kind == Kind::kInputDir) {
    const Relation r = relation(normal_path(in.path), normal_path(other.path));
    if (other.kind == Kind::kReplacedDir && r != Relation::kUnrelated && r != Relation::kAbove)
      refuse(in, other, "the input directory would be deleted when the output directory is replaced");
    if (other.kind == Kind::kOutputDir && (r == Relation::kEqual || r == Relation::kAbove)) {
      // Writing into (a parent of) an input directory is fine unless a written name is read.
      for (const std::string& w : other.reserved)
        if (is_reserved_in((fs::path(normal_path(other.path)) / w).lexically_normal().string(),
                           normal_path(in.path), in.reserved))
          refuse(other, in, fmt::format("{} would overwrite {}, which this command reads", other.flag, w));
    }
  }
  // Output directories nested in one another: the caller makes it work (see the header).
}

}  // namespace

std::string normal_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool is_inside(const std::string& path, const std::string& dir) {
  const std::string p = normal_path(path), d = normal_path(dir);
  if (p.size() <= d.size() || p.compare(0, d.size(), d) != 0) return false;
  return d == "/" || p[d.size()] == '/';
}

void check_paths(const std::vector<PathUse>& uses) {
  for (size_t i = 0; i < uses.size(); ++i) {
    if (uses[i].path.empty()) continue;
    for (size_t j = i + 1; j < uses.size(); ++j)
      if (!uses[j].path.empty()) check_pair(uses[i], uses[j]);
  }
}

const std::vector<std::string>& trace_file_names() {
  static const std::vector<std::string> n = {"timeline.pftrace", "timeline.json", "energy.csv", "waves.vcd"};
  return n;
}

const std::vector<std::string>& program_file_names() {
  static const std::vector<std::string> n = {"cim-ir.yaml", "schedule.yaml", "cores",      "program.bin",
                                             "weights.bin", "arch.yaml",     "compile.json"};
  return n;
}

}  // namespace cimsim::cli
