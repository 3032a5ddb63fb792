// The Slurm executor: a job array with one point per array task, each task running the same
// point runner as the local executor (`cimsim sweep SPEC -o OUT --point $SLURM_ARRAY_TASK_ID`).
//
// Contract:
//  - slurm_script() is the text of OUT/sweep.sbatch: bash, `#SBATCH --array=LIST%LIMIT` where
//    LIST holds the indexes of `todo` as ranges ("0-3,7"), --output into OUT/logs/, optional
//    --partition/--time/--mem, and one `exec` line with absolute paths of the cimsim binary,
//    the spec and OUT (the cluster's nodes must see the same file system).
//  - emit_slurm() writes it atomically and returns its path.
//  - submit_slurm() finds sbatch in PATH (InputError naming PATH and the local alternative
//    when missing), runs `sbatch --parsable [--wait] OUT/sweep.sbatch` and returns the job id.
//    With wait, it returns when every task has ended (sbatch --wait); a non-zero sbatch
//    status is not an error here (failed points are reported by the merge), but a refused
//    submission is (InputError with sbatch's message).
#pragma once

#include <string>
#include <vector>

#include "platform/sweep/sweep_spec.h"

namespace cimsim::sweep {

struct SlurmOptions {
  std::string exe;              // absolute path of the cimsim binary
  std::string partition, time, mem, job_name = "cimsim-sweep";
  size_t array_limit = 0;       // 0: no %LIMIT
  bool wait = true;
};

std::string array_ranges(const std::vector<size_t>& indexes);  // {0,1,2,5} -> "0-2,5"
std::string slurm_script(const SweepSpec& spec, const std::vector<size_t>& todo, const SlurmOptions& opt);
std::string emit_slurm(const SweepSpec& spec, const std::vector<size_t>& todo, const SlurmOptions& opt);
std::string submit_slurm(const std::string& script_path, const SlurmOptions& opt);

// The first `name` in PATH that is an executable file, or "".
std::string find_in_path(const std::string& name);

}  // namespace cimsim::sweep
