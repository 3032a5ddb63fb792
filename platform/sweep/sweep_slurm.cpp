// Slurm job-array emission and submission (sweep_slurm.h).
#include "platform/sweep/sweep_slurm.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/sweep/sweep_point.h"

extern char** environ;

namespace cimsim::sweep {
namespace fs = std::filesystem;
namespace {

// Single-quoted for bash.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// An #SBATCH value must be one word: sbatch splits the line at blanks.
void check_word(const std::string& flag, const std::string& v) {
  if (v.find_first_of(" \t\n\r'\"") != std::string::npos)
    throw InputError(fmt::format("{} '{}': expected one word without blanks or quotes", flag, v));
}

}  // namespace

std::string array_ranges(const std::vector<size_t>& indexes) {
  std::string out;
  for (size_t i = 0; i < indexes.size();) {
    size_t j = i;
    while (j + 1 < indexes.size() && indexes[j + 1] == indexes[j] + 1) ++j;
    out += (out.empty() ? "" : ",") +
           (j == i ? std::to_string(indexes[i]) : fmt::format("{}-{}", indexes[i], indexes[j]));
    i = j + 1;
  }
  return out;
}

std::string slurm_script(const SweepSpec& spec, const std::vector<size_t>& todo, const SlurmOptions& opt) {
  check_word("--partition", opt.partition);
  check_word("--time", opt.time);
  check_word("--mem", opt.mem);
  check_word("--job-name", opt.job_name);
  if (todo.empty()) throw std::logic_error("slurm_script: no points to run");
  const std::string spec_abs = fs::absolute(spec.spec_path).lexically_normal().string();
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# cimsim sweep {}: {} point(s), one per array task.\n", spec_abs, todo.size());
  s += "# Written by `cimsim sweep --slurm emit|submit`; merge with `cimsim sweep SPEC -o OUT --merge`.\n";
  s += fmt::format("#SBATCH --job-name={}\n", opt.job_name);
  s += fmt::format("#SBATCH --array={}{}\n", array_ranges(todo),
                   opt.array_limit ? fmt::format("%{}", opt.array_limit) : "");
  s += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
  if (spec.output_dir.find_first_of(" \t\n\r'\"") != std::string::npos)
    throw InputError(fmt::format("{}: a Slurm sweep's output directory must have no blanks or quotes in its path "
                                 "(#SBATCH --output takes one word)",
                                 spec.output_dir));
  s += fmt::format("#SBATCH --output={}/logs/slurm-%A_%a.log\n", spec.output_dir);
  if (!opt.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", opt.partition);
  if (!opt.time.empty()) s += fmt::format("#SBATCH --time={}\n", opt.time);
  if (!opt.mem.empty()) s += fmt::format("#SBATCH --mem={}\n", opt.mem);
  s += "set -eu\n";
  s += fmt::format("exec {} sweep {} -o {} --point \"$SLURM_ARRAY_TASK_ID\"\n", shell_quote(opt.exe),
                   shell_quote(spec_abs), shell_quote(spec.output_dir));
  return s;
}

std::string emit_slurm(const SweepSpec& spec, const std::vector<size_t>& todo, const SlurmOptions& opt) {
  const std::string text = slurm_script(spec, todo, opt);
  std::error_code ec;
  fs::create_directories(spec.output_dir + "/logs", ec);
  if (ec) throw InputError(spec.output_dir + ": cannot create the directory (" + ec.message() + ")");
  const std::string path = spec.output_dir + "/sweep.sbatch";
  write_file_atomically(path, text);
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add, ec);
  return path;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
  }
  return "";
}

std::string submit_slurm(const std::string& script_path, const SlurmOptions& opt) {
  const std::string sbatch = find_in_path("sbatch");
  if (sbatch.empty()) {
    const char* path = std::getenv("PATH");
    throw InputError(fmt::format("--slurm submit: sbatch not found in PATH ({}); install Slurm's client "
                                 "(Debian: slurm-client, or scripts/setup --optional), submit {} yourself, "
                                 "or run the points locally with -j N",
                                 path ? path : "", script_path));
  }
  // sbatch's stdout (the job id) and stderr go to files next to the script, read back after.
  const std::string out_path = script_path + ".sbatch-out", err_path = script_path + ".sbatch-err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = {"sbatch", "--parsable"};
  if (opt.wait) args.push_back("--wait");
  args.push_back(script_path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, sbatch.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw InputError(fmt::format("{}: cannot run sbatch ({})", sbatch, std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::error_code ec;
    fs::remove(p, ec);
    return ss.str();
  };
  std::string job = slurp(out_path);
  std::string err = slurp(err_path);
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  while (!job.empty() && (job.back() == '\n' || job.back() == '\r')) job.pop_back();
  if (const size_t semi = job.find(';'); semi != std::string::npos) job.resize(semi);  // "id;cluster"
  if (job.empty())
    throw InputError(fmt::format("sbatch {}: submission refused (exit status {}): {}", script_path,
                                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, err));
  return job;
}

}  // namespace cimsim::sweep
