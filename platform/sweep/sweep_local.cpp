// Local process pool (sweep_local.h). Processes, not threads: a SystemC simulation context is
// global per process, and a crashing point must not take the sweep down.
#include "platform/sweep/sweep_local.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include "platform/sweep/sweep_point.h"

extern char** environ;

namespace cimsim::sweep {
namespace fs = std::filesystem;
namespace {

std::string clock_text(double s) {
  const long t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

pid_t spawn_point(const SweepSpec& spec, const std::string& exe, size_t index, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addclose(&actions, 0);
  const std::string index_text = std::to_string(index);
  std::vector<std::string> args = {"cimsim", "sweep", spec.spec_path, "-o", spec.output_dir, "--point", index_text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw InputError(fmt::format("{}: cannot start a point process ({})", exe, std::strerror(rc)));
  return pid;
}

}  // namespace

size_t run_local(const SweepSpec& spec, const std::vector<SweepPoint>& points, const std::vector<size_t>& todo,
                 const LocalOptions& opt, std::ostream& progress) {
  const std::string logs = spec.output_dir + "/logs";
  std::error_code ec;
  fs::create_directories(logs, ec);
  if (ec) throw InputError(logs + ": cannot create the directory (" + ec.message() + ")");
  ensure_sweep_input(spec);  // once, before the points race to write it

  const auto start = std::chrono::steady_clock::now();
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0, failed = 0;
  const size_t jobs = std::max<size_t>(1, opt.jobs);
  auto report = [&] {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = done ? elapsed / done * (todo.size() - done) : 0;
    const std::string line = fmt::format("sweep: {}/{} points done, {} failed, {} elapsed, ETA {}", done,
                                         todo.size(), failed, clock_text(elapsed), done ? clock_text(eta) : "?");
    if (opt.progress_is_tty) progress << "\r" << line << "\x1b[K" << (done == todo.size() ? "\n" : "") << std::flush;
    else progress << line << "\n" << std::flush;
  };
  while (next < todo.size() || !running.empty()) {
    while (running.size() < jobs && next < todo.size()) {
      const size_t i = todo[next++];
      const std::string log = fmt::format("{}/point-{}.log", logs, point_name(i));
      running[spawn_point(spec, opt.exe, i, log)] = i;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const SweepPoint& p = points[it->second];
    running.erase(it);
    ++done;
    const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!exited_ok) ++failed;
    const auto row = read_point_row(spec, p);
    if (!exited_ok && (!row || row->value("status", "") == "ok")) {
      const std::string how = WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                                  : fmt::format("exited with code {}", WEXITSTATUS(status));
      write_point_row(spec, p, failed_row(p, fmt::format("the point process {} without recording a result "
                                                         "(see logs/point-{}.log)",
                                                         how, point_name(p.index))));
    }
    report();
  }
  return failed;
}

}  // namespace cimsim::sweep
