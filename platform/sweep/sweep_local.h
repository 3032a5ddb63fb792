// The local executor: a bounded pool of point processes on this machine.
//
// Contract:
//  - run_local() runs each point of `todo` as its own process `EXE sweep SPEC -o OUT --point I`
//    (posix_spawn; EXE is normally /proc/self/exe), at most `jobs` at a time, with stdout and
//    stderr going to OUT/logs/point-NNNN.log. A process that ends without writing its row
//    (killed, crashed) gets a "failed" row naming its exit status and log.
//  - A progress line on `progress` after each point: done/total, failures, elapsed, ETA
//    (a terminal line rewritten in place when `progress_is_tty`).
//  - Returns the number of points whose process reported failure. Points are independent:
//    one failing does not stop the others.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "platform/sweep/sweep_spec.h"

namespace cimsim::sweep {

struct LocalOptions {
  std::string exe = "/proc/self/exe";
  size_t jobs = 1;
  bool progress_is_tty = false;
};

size_t run_local(const SweepSpec& spec, const std::vector<SweepPoint>& points, const std::vector<size_t>& todo,
                 const LocalOptions& opt, std::ostream& progress);

}  // namespace cimsim::sweep
