// `cimsim sweep SPEC.yaml`: the command (docs/sweep.md, docs/cli.md). main.cpp only registers
// these options and calls run_sweep_command().
//
// Contract: the spec is loaded and every point expanded and validated before anything is
// written (a bad spec or an invalid point: InputError, exit 1, no OUT created). Then exactly
// one of: --point I (run one point), --merge, --list, --slurm emit, --slurm submit, or the
// local pool (-j N). Returns the process exit code: 0 when every point that was to run is ok
// (and, for the pool and submit-and-wait, none failed); 1 when points failed (the message says
// which; the other results are kept and merged).
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <ostream>
#include <string>

namespace cimsim::sweep {

struct SweepArgs {
  std::string spec, output_dir;
  size_t jobs = 0;  // 0: number of cores
  long point = -1;
  bool force = false, merge = false, list = false, no_wait = false, quiet = false;
  std::string slurm;  // "", "emit", "submit"
  std::string partition, time, mem;
  size_t array_limit = 0;
};

void add_sweep_options(CLI::App* cmd, SweepArgs& a);
int run_sweep_command(const SweepArgs& a, std::ostream& out, std::ostream& err);

}  // namespace cimsim::sweep
