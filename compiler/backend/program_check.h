// Static checks of a compiled Program, without timing (docs/schedule.md, "Deadlock freedom").
//
// Contract
//  - walk_core() executes a core's scalar control flow (li/addi/add/bne/blt/jmp/halt, r0 = 0,
//    r15 = batch) and calls `visit` for every executed non-scalar instruction with the
//    register file at that point. Stops with InputError after max_steps instructions.
//  - check_program() walks every core for `batch` images and
//     * matches messages as the simulator does (by source core and tag, FIFO), with recvs
//       blocking and sends blocking only on credits: with rx_channel_bytes > 0 a send waits
//       while the bytes sent to that destination and not yet received, plus its own, exceed
//       rx_channel_bytes (the simulator's receive channel per sending core), and a message
//       larger than the channel is an error. Every recv must get exactly one send of the same
//       length, no message may be left over, and no core may stay blocked (a cycle of waits
//       or a wait on a core that halted is reported with the chain of waiting cores);
//     * checks every local-buffer access of every executed instruction against
//       buffer_bytes (and global accesses against global_bytes when > 0);
//     * checks global-memory ordering without timing: a load or store overlapping bytes a
//       store of another core wrote must be ordered after that store by a chain of messages
//       (happens-before through send/recv, vector clocks), and a load must not read bytes
//       that no earlier store wrote unless they are model inputs (for `batch` images) or
//       reloadable weights. Unordered accesses are found when the replay (each core as far
//       as its recvs allow, in core order) visits the store first; a load visited before
//       an unordered store reads unwritten bytes and is reported as such.
//    Returns the problems found (empty: the program is sound).
//  - unit_busy_cycles(): per core, the busy cycles of its busiest unit for `batch` images
//    from the timing formulas (docs/timing.md), ignoring waits: a lower bound used by the
//    latency estimate.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim::backend {

using Visitor = std::function<void(const Instruction&, const int32_t* regs)>;
// Returns the number of instructions executed (scalar ones included).
int64_t walk_core(const CoreProgram& core, int32_t batch, const Visitor& visit,
                  int64_t max_steps = int64_t{1} << 34);

struct CheckResult {
  std::vector<std::string> problems;
  int64_t messages = 0;             // matched send/recv pairs
  std::vector<int64_t> dynamic_instructions;  // per core
  bool ok() const { return problems.empty(); }
};
CheckResult check_program(const Program& p, int32_t batch, int64_t buffer_bytes,
                          int64_t global_bytes, int64_t rx_channel_bytes = 0);

// Per core: {busiest-unit cycles, total executed instructions} for `batch` images.
struct CoreCost {
  int64_t busy_cycles = 0;
  int64_t vector_cycles = 0, nic_cycles = 0, crossbar_cycles = 0;
};
std::vector<CoreCost> unit_busy_cycles(const Program& p, const ArchSpec& arch, int32_t batch);

}  // namespace cimsim::backend
