// The sweep command's control flow (sweep_cli.h): load + expand, then one executor, then merge.
#include "platform/sweep/sweep_cli.h"

#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <thread>

#include "platform/sweep/sweep_local.h"
#include "platform/sweep/sweep_merge.h"
#include "platform/sweep/sweep_point.h"
#include "platform/sweep/sweep_slurm.h"
#include "platform/sweep/sweep_spec.h"

namespace cimsim::sweep {
namespace fs = std::filesystem;
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitInternal = 3;

// OUT holds only what the sweep writes; it must not be (or be above) one of the sweep's inputs,
// because points/NNNN directories are replaced.
void check_output_dir(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  std::error_code ec;
  if (fs::exists(spec.output_dir, ec) && !fs::is_directory(spec.output_dir, ec))
    throw InputError(spec.output_dir + ": the sweep output exists and is not a directory");
  const fs::path out = fs::weakly_canonical(spec.output_dir, ec);
  auto inside = [&](const std::string& input) {
    if (input.empty()) return false;
    const fs::path rel = fs::weakly_canonical(input, ec).lexically_relative(out / "points");
    return !rel.empty() && *rel.begin() != "..";
  };
  std::vector<std::string> inputs = {spec.spec_path, spec.arch_path, spec.input_path, spec.calibration_path};
  for (const auto& p : points) inputs.push_back(p.model_path);
  for (const auto& in : inputs)
    if (inside(in))
      throw InputError(fmt::format("{}: inside {}/points, which the sweep replaces; move it or pick another "
                                   "output directory",
                                   in, spec.output_dir));
}

std::vector<size_t> points_to_run(const SweepSpec& spec, const std::vector<SweepPoint>& points, bool force,
                                  size_t& skipped) {
  std::vector<size_t> todo;
  skipped = 0;
  for (const auto& p : points) {
    if (!force && point_complete(spec, p)) ++skipped;
    else todo.push_back(p.index);
  }
  return todo;
}

int finish(const SweepSpec& spec, const std::vector<SweepPoint>& points, std::ostream& err,
           bool pending_is_failure) {
  const MergeSummary s = merge_sweep(spec, points);
  err << fmt::format("sweep: {} points: {} ok, {} failed, {} pending -> {}/results.csv, {}/results.json\n", s.total,
                     s.ok, s.failed, s.pending, spec.output_dir, spec.output_dir);
  const size_t shown = std::min<size_t>(s.failures.size(), 10);
  for (size_t i = 0; i < shown; ++i) err << "  failed: " << s.failures[i] << "\n";
  if (s.failures.size() > shown) err << fmt::format("  ... and {} more (results.csv)\n", s.failures.size() - shown);
  if (s.failed > 0) {
    err << fmt::format("sweep: {} of {} points failed; the other results are kept\n", s.failed, s.total);
    return kExitFailed;
  }
  if (pending_is_failure && s.pending > 0) {
    err << fmt::format("sweep: {} of {} points have no result (see {}/logs)\n", s.pending, s.total,
                       spec.output_dir);
    return kExitFailed;
  }
  return kExitOk;
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  return p.string();
}

}  // namespace

void add_sweep_options(CLI::App* cmd, SweepArgs& a) {
  cmd->add_option("spec", a.spec, "sweep specification YAML (docs/sweep.md)")->required();
  cmd->add_option("-o,--output-dir", a.output_dir, "output directory (default: the spec's `output`)");
  cmd->add_option("-j,--jobs", a.jobs, "local executor: points run in parallel (default: number of cores)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--point", a.point, "run point I only (what each executor's processes do)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--force", a.force, "rerun points that already have a complete result");
  cmd->add_flag("--merge", a.merge, "only merge the points done so far into OUT/results.{csv,json}");
  cmd->add_flag("--list", a.list, "print the expanded points and exit");
  cmd->add_option("--slurm", a.slurm, "emit OUT/sweep.sbatch (a job array), or submit it with sbatch")
      ->check(CLI::IsMember({"emit", "submit"}));
  cmd->add_flag("--no-wait", a.no_wait, "--slurm submit: return after submitting (merge later with --merge)");
  cmd->add_option("--partition", a.partition, "--slurm: #SBATCH --partition");
  cmd->add_option("--time", a.time, "--slurm: #SBATCH --time per task (e.g. 00:10:00)");
  cmd->add_option("--mem", a.mem, "--slurm: #SBATCH --mem per task (e.g. 2G)");
  cmd->add_option("--array-limit", a.array_limit, "--slurm: at most this many tasks at once (%LIMIT)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", a.quiet, "no progress line");
}

int run_sweep_command(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  const int modes = (a.point >= 0) + a.merge + a.list + !a.slurm.empty();
  if (modes > 1) throw InputError("sweep: give at most one of --point, --merge, --list, --slurm");
  if (a.slurm.empty() && (!a.partition.empty() || !a.time.empty() || !a.mem.empty() || a.array_limit || a.no_wait))
    throw InputError("sweep: --partition, --time, --mem, --array-limit and --no-wait need --slurm");
  if (a.no_wait && a.slurm != "submit") throw InputError("sweep: --no-wait needs --slurm submit");
  if (a.jobs && modes > 0) throw InputError("sweep: -j applies to the local executor, not to --point, --merge, --list or --slurm");

  const SweepSpec spec = load_sweep_spec(a.spec, a.output_dir);
  if (a.point >= 0) {
    // A point process expands its own point only: the sweep that started it checked them all.
    const SweepPoint point = expand_point(spec, static_cast<size_t>(a.point));
    check_output_dir(spec, {point});
    const PointOutcome o = run_point(spec, point);
    if (o == PointOutcome::kOk) {
      out << fmt::format("point {} ({}): ok\n", point.index, point_values_text(point));
      return kExitOk;
    }
    const auto row = read_point_row(spec, point);
    err << fmt::format("point {} ({}): failed: {}\n", point.index, point_values_text(point),
                       row ? row->value("error", "") : std::string("(no row)"));
    return o == PointOutcome::kFailed ? kExitFailed : kExitInternal;
  }
  const std::vector<SweepPoint> points = expand_sweep(spec);
  check_output_dir(spec, points);

  if (a.list) {
    for (const auto& p : points)
      out << fmt::format("{} {} mode={} model={} key={}\n", point_name(p.index), point_values_text(p), p.mode,
                         p.model_label, p.key);
    return kExitOk;
  }
  if (a.merge) return finish(spec, points, err, false);

  size_t skipped = 0;
  const std::vector<size_t> todo = points_to_run(spec, points, a.force, skipped);
  if (skipped) err << fmt::format("sweep: {} of {} points already complete (--force reruns them)\n", skipped, points.size());

  if (!a.slurm.empty()) {
    if (todo.empty()) {
      err << "sweep: nothing to submit\n";
      return finish(spec, points, err, false);
    }
    SlurmOptions so;
    so.exe = self_exe();
    so.partition = a.partition;
    so.time = a.time;
    so.mem = a.mem;
    so.array_limit = a.array_limit;
    so.wait = !a.no_wait;
    std::error_code ec;
    const bool out_existed = fs::exists(spec.output_dir, ec);
    ensure_sweep_input(spec);
    const std::string script = emit_slurm(spec, todo, so);
    if (a.slurm == "emit") {
      out << script << "\n";
      err << fmt::format("sweep: wrote {} ({} array tasks); submit with `sbatch {}`, then merge with `cimsim sweep {} -o {} --merge`\n",
                         script, todo.size(), script, a.spec, spec.output_dir);
      return kExitOk;
    }
    if (so.wait) err << fmt::format("sweep: submitting {} array tasks and waiting for them (sbatch --wait)\n", todo.size());
    std::string job;
    try {
      job = submit_slurm(script, so);
    } catch (const InputError&) {
      if (!out_existed) fs::remove_all(spec.output_dir, ec);  // a refused submission leaves nothing behind
      throw;
    }
    out << job << "\n";
    if (!so.wait) {
      err << fmt::format("sweep: submitted job array {} ({} tasks); merge with `cimsim sweep {} -o {} --merge`\n",
                         job, todo.size(), a.spec, spec.output_dir);
      return kExitOk;
    }
    err << fmt::format("sweep: job array {} ({} tasks) finished\n", job, todo.size());
    return finish(spec, points, err, true);
  }

  LocalOptions lo;
  lo.jobs = a.jobs ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  lo.progress_is_tty = ::isatty(2) == 1;
  std::ostringstream silent;
  if (!todo.empty()) run_local(spec, points, todo, lo, a.quiet ? static_cast<std::ostream&>(silent) : err);
  return finish(spec, points, err, true);
}

}  // namespace cimsim::sweep
