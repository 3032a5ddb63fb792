// Untimed walk of core streams: message matching, buffer bounds, unit busy time.
#include "compiler/backend/program_check.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

namespace cimsim::backend {
namespace {

bool is_scalar(Op op) {
  switch (op) {
    case Op::kLi:
    case Op::kAddi:
    case Op::kAdd:
    case Op::kBne:
    case Op::kBlt:
    case Op::kJmp:
    case Op::kHalt:
      return true;
    default:
      return false;
  }
}

struct Range {
  int64_t lo = 0, hi = 0;  // [lo, hi)
  bool global = false;
};

int64_t addr_of(const Addr& a, const int32_t* regs) { return int64_t{regs[a.base]} + a.imm; }

// Byte ranges an instruction touches (empty ranges skipped).
std::vector<Range> accesses(const CoreProgram& core, const Instruction& in, const int32_t* r) {
  std::vector<Range> out;
  auto add = [&](int64_t base, int64_t len, bool global = false) {
    if (len > 0) out.push_back({base, base + len, global});
  };
  const auto& im = in.imm;
  switch (in.op) {
    case Op::kCopy: {
      const int64_t seg = im[0], n_in = im[1], n_out = im[4];
      if (seg <= 0 || n_in <= 0 || n_out <= 0) break;
      for (int side = 0; side < 2; ++side) {
        const int64_t base = addr_of(in.addr[side], r);
        const int64_t s_in = side == 0 ? im[3] : im[2], s_out = side == 0 ? im[6] : im[5];
        const int64_t a = std::min<int64_t>(0, (n_in - 1) * s_in);
        const int64_t b = std::min<int64_t>(0, (n_out - 1) * s_out);
        const int64_t c = std::max<int64_t>(0, (n_in - 1) * s_in);
        const int64_t d = std::max<int64_t>(0, (n_out - 1) * s_out);
        out.push_back({base + a + b, base + c + d + seg, false});
      }
      break;
    }
    case Op::kFill:
      add(addr_of(in.addr[0], r), im[0]);
      break;
    case Op::kRequant:
      add(addr_of(in.addr[0], r), im[0]);
      add(addr_of(in.addr[1], r), 4 * int64_t{im[0]});
      break;
    case Op::kAddq:
    case Op::kMax:
      for (int k = 0; k < 3; ++k) add(addr_of(in.addr[k], r), im[0]);
      break;
    case Op::kAdd32:
      for (int k = 0; k < 3; ++k) add(addr_of(in.addr[k], r), 4 * int64_t{im[0]});
      break;
    case Op::kSum32:
      add(addr_of(in.addr[0], r), 4 * int64_t{im[0]});
      add(addr_of(in.addr[1], r), im[0]);
      break;
    case Op::kLut:
      add(addr_of(in.addr[0], r), im[0]);
      add(addr_of(in.addr[1], r), im[0]);
      break;
    case Op::kMvm: {
      const TileDesc& t = core.tiles.at(static_cast<size_t>(im[0]));
      add(addr_of(in.addr[0], r), 4 * int64_t{t.cols});
      add(addr_of(in.addr[1], r), t.rows);
      break;
    }
    case Op::kWload: {
      const TileDesc& t = core.tiles.at(static_cast<size_t>(im[0]));
      add(t.weight_global_addr, int64_t{t.rows} * t.cols, true);
      break;
    }
    case Op::kSend:
      add(addr_of(in.addr[1], r), im[0]);
      break;
    case Op::kRecv:
      add(addr_of(in.addr[0], r), im[0]);
      break;
    case Op::kLoad:
      add(addr_of(in.addr[0], r), im[0]);
      add(addr_of(in.addr[2], r), im[0], true);
      break;
    case Op::kStore:
      add(addr_of(in.addr[2], r), im[0], true);
      add(addr_of(in.addr[1], r), im[0]);
      break;
    default:
      break;
  }
  return out;
}

// A core's events in program order: messages and global-memory accesses.
struct Event {
  enum Kind : uint8_t { kSend, kRecv, kLoad, kStore } kind = kSend;
  int peer = 0;
  int32_t tag = 0;
  int64_t len = 0;     // message length, or global range [addr, addr + len)
  int64_t addr = 0;
  size_t pc = 0;
};

// Happens-before of global-memory accesses (docs/schedule.md, "Deadlock freedom"): every
// store gets a stamp from its core's clock; messages carry the sender's vector clock (sparse:
// only cores that stored something), a recv merges it. A load is ordered after a store of
// core p with stamp k iff p is the loading core or the loader's clock has clock[p] >= k.
using Clock = std::map<int, int64_t>;
using ClockPtr = std::shared_ptr<const Clock>;

struct Written {  // one stored byte range [lo, hi)
  int64_t hi = 0;
  int core = 0;
  int64_t stamp = 0;
};

bool ordered(const Clock& c, int self, int core, int64_t stamp) {
  if (core == self) return true;
  auto it = c.find(core);
  return it != c.end() && it->second >= stamp;
}

// Overwrites [lo, hi) in the map of written ranges (splitting the ranges it cuts).
void write_range(std::map<int64_t, Written>& m, int64_t lo, int64_t hi, const Written& w) {
  auto it = m.lower_bound(lo);
  if (it != m.begin()) {
    auto prev = std::prev(it);
    if (prev->second.hi > lo) {
      const Written tail = prev->second;
      prev->second.hi = lo;
      if (tail.hi > hi) m[hi] = tail;
    }
  }
  it = m.lower_bound(lo);
  while (it != m.end() && it->first < hi) {
    if (it->second.hi > hi) {
      const Written tail = it->second;
      m.erase(it);
      m[hi] = tail;
      break;
    }
    it = m.erase(it);
  }
  m[lo] = w;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

int64_t walk_core(const CoreProgram& core, int32_t batch, const Visitor& visit, int64_t max_steps) {
  int32_t regs[kNumRegisters] = {};
  regs[kBatchRegister] = batch;
  size_t pc = 0;
  int64_t steps = 0;
  while (pc < core.code.size()) {
    if (++steps > max_steps) {
      throw InputError(fmt::format("program check: more than {} instructions executed", max_steps));
    }
    const Instruction& in = core.code[pc];
    if (!is_scalar(in.op)) {
      visit(in, regs);
      ++pc;
      continue;
    }
    switch (in.op) {
      case Op::kLi:
        regs[in.rd] = in.imm[0];
        ++pc;
        break;
      case Op::kAddi:
        regs[in.rd] = regs[in.rs] + in.imm[0];
        ++pc;
        break;
      case Op::kAdd:
        regs[in.rd] = regs[in.rs] + regs[in.rt];
        ++pc;
        break;
      case Op::kBne:
        pc = regs[in.rs] != regs[in.rt] ? static_cast<size_t>(in.imm[0]) : pc + 1;
        break;
      case Op::kBlt:
        pc = regs[in.rs] < regs[in.rt] ? static_cast<size_t>(in.imm[0]) : pc + 1;
        break;
      case Op::kJmp:
        pc = static_cast<size_t>(in.imm[0]);
        break;
      default:  // halt
        return steps;
    }
    regs[0] = 0;
  }
  return steps;
}

CheckResult check_program(const Program& p, int32_t batch, int64_t buffer_bytes,
                          int64_t global_bytes, int64_t rx_channel_bytes) {
  CheckResult res;
  const int n = static_cast<int>(p.cores.size());
  std::vector<std::vector<Event>> events(static_cast<size_t>(n));
  res.dynamic_instructions.assign(static_cast<size_t>(n), 0);
  for (int c = 0; c < n; ++c) {
    const CoreProgram& core = p.cores[static_cast<size_t>(c)];
    int reported = 0;
    // Crossbar residency as the simulator tracks it: resident tiles at start, wload switches.
    std::map<std::pair<int32_t, int32_t>, int32_t> holds;
    for (size_t t = 0; t < core.tiles.size(); ++t) {
      if (core.tiles[t].weight_global_addr < 0) {
        holds[{core.tiles[t].pe, core.tiles[t].crossbar}] = static_cast<int32_t>(t);
      }
    }
    res.dynamic_instructions[static_cast<size_t>(c)] = walk_core(
        core, batch, [&](const Instruction& in, const int32_t* regs) {
          if (in.op == Op::kWload || in.op == Op::kMvm) {
            const TileDesc& t = core.tiles.at(static_cast<size_t>(in.imm[0]));
            auto it = holds.find({t.pe, t.crossbar});
            if (in.op == Op::kWload) {
              holds[{t.pe, t.crossbar}] = in.imm[0];
            } else if ((it == holds.end() || it->second != in.imm[0]) && reported++ < 3) {
              res.problems.push_back(fmt::format(
                  "core {} instruction {}: mvm t{} but its crossbar holds {}", c,
                  &in - core.code.data(), in.imm[0],
                  it == holds.end() ? std::string("no tile") : fmt::format("t{}", it->second)));
            }
          }
          for (const Range& rg : accesses(core, in, regs)) {
            const int64_t cap = rg.global ? global_bytes : buffer_bytes;
            if (cap <= 0 || (rg.lo >= 0 && rg.hi <= cap)) continue;
            if (reported++ < 3) {
              res.problems.push_back(fmt::format(
                  "core {}: {} touches {} bytes [{}, {}) outside 0..{}", c, op_name(in.op),
                  rg.global ? "global" : "buffer", rg.lo, rg.hi, cap));
            }
          }
          if (in.op == Op::kSend || in.op == Op::kRecv) {
            Event e;
            e.kind = in.op == Op::kSend ? Event::kSend : Event::kRecv;
            e.peer = in.imm[1];
            e.tag = in.imm[2];
            e.len = in.imm[0];
            e.pc = static_cast<size_t>(&in - core.code.data());
            events[static_cast<size_t>(c)].push_back(e);
          }
          if ((in.op == Op::kLoad || in.op == Op::kStore) && in.imm[0] > 0) {
            Event e;
            e.kind = in.op == Op::kLoad ? Event::kLoad : Event::kStore;
            e.addr = addr_of(in.addr[2], regs);
            e.len = in.imm[0];
            e.pc = static_cast<size_t>(&in - core.code.data());
            events[static_cast<size_t>(c)].push_back(e);
          }
        });
  }

  // Bytes in global memory before the run: the inputs of `batch` images, reloadable weights.
  std::vector<std::pair<int64_t, int64_t>> initial;
  for (const TensorIO& io : p.inputs) initial.push_back({io.global_addr, io.global_addr + batch * io.bytes_per_image});
  for (const CoreProgram& core : p.cores) {
    for (const TileDesc& t : core.tiles) {
      if (t.weight_global_addr >= 0) initial.push_back({t.weight_global_addr, t.weight_global_addr + int64_t{t.rows} * t.cols});
    }
  }
  std::sort(initial.begin(), initial.end());
  auto initialized = [&](int64_t lo, int64_t hi) {  // is [lo, hi) inside the initial bytes?
    for (const auto& [a, b] : initial) {
      if (a > lo) break;
      if (b > lo) lo = b;
      if (lo >= hi) return true;
    }
    return lo >= hi;
  };
  std::map<int64_t, Written> written;
  std::vector<ClockPtr> clock(static_cast<size_t>(n), std::make_shared<const Clock>());
  std::vector<int64_t> stamps(static_cast<size_t>(n), 0);
  int races = 0;
  auto race = [&](const std::string& what) {
    if (races++ < 3) res.problems.push_back(what);
  };

  // Untimed matching: run every core as far as its recvs are satisfied, repeat until stuck.
  struct Msg {
    int64_t len;
    ClockPtr clock;
  };
  std::map<std::tuple<int, int, int32_t>, std::deque<Msg>> queues;  // (src, dst, tag) -> messages
  std::map<std::pair<int, int>, int64_t> in_channel;  // (src, dst) -> bytes sent, not received
  int oversized = 0;
  std::vector<size_t> pos(static_cast<size_t>(n), 0);
  bool progress = true;
  while (progress) {
    progress = false;
    for (int c = 0; c < n; ++c) {
      auto& ev = events[static_cast<size_t>(c)];
      size_t& i = pos[static_cast<size_t>(c)];
      ClockPtr& vc = clock[static_cast<size_t>(c)];
      while (i < ev.size()) {
        const Event& e = ev[i];
        if (e.kind == Event::kSend) {
          int64_t& used = in_channel[{c, e.peer}];
          if (rx_channel_bytes > 0 && e.len > rx_channel_bytes) {
            if (oversized++ < 3) {
              res.problems.push_back(fmt::format(
                  "core {} instruction {}: send of {} bytes to core {} is larger than the receive "
                  "channel (noc.rx_channel_bytes = {})", c, e.pc, e.len, e.peer, rx_channel_bytes));
            }
          } else if (rx_channel_bytes > 0 && used + e.len > rx_channel_bytes) {
            break;  // no credits until core e.peer receives
          }
          used += e.len;
          queues[{c, e.peer, e.tag}].push_back({e.len, vc});
        } else if (e.kind == Event::kRecv) {
          auto it = queues.find({e.peer, c, e.tag});
          if (it == queues.end() || it->second.empty()) break;
          const Msg& m = it->second.front();
          if (m.len != e.len) {
            res.problems.push_back(fmt::format(
                "core {} instruction {}: recv of {} bytes from core {} tag {} matches a send of {} bytes",
                c, e.pc, e.len, e.peer, e.tag, m.len));
          }
          bool grows = false;
          for (const auto& [core, st] : *m.clock) {
            auto at = vc->find(core);
            if (core != c && (at == vc->end() || at->second < st)) grows = true;
          }
          if (grows) {
            auto merged = std::make_shared<Clock>(*vc);
            for (const auto& [core, st] : *m.clock) {
              if (core != c) (*merged)[core] = std::max((*merged)[core], st);
            }
            vc = merged;
          }
          in_channel[{e.peer, c}] -= m.len;
          it->second.pop_front();
          ++res.messages;
        } else {
          const int64_t lo = e.addr, hi = e.addr + e.len;
          int64_t covered = lo;
          bool gap = false;
          auto it = written.upper_bound(lo);
          if (it != written.begin()) --it;
          for (; it != written.end() && it->first < hi; ++it) {
            if (it->second.hi <= lo) continue;
            if (it->first > covered && !initialized(covered, it->first)) gap = true;
            covered = std::max(covered, it->second.hi);
            if (!ordered(*vc, c, it->second.core, it->second.stamp)) {
              race(fmt::format(
                  "core {} instruction {}: {} of global [{}, {}) is not ordered after the store of "
                  "core {} to [{}, {}) (no chain of messages from that store to this {})",
                  c, e.pc, e.kind == Event::kLoad ? "load" : "store", lo, hi, it->second.core,
                  it->first, it->second.hi, e.kind == Event::kLoad ? "load" : "store"));
            }
          }
          if (covered < hi && !initialized(covered, hi)) gap = true;
          if (e.kind == Event::kLoad && gap) {
            race(fmt::format("core {} instruction {}: load of global [{}, {}) reads bytes no store "
                             "wrote before it (and that are not a model input or weights)",
                             c, e.pc, lo, hi));
          }
          if (e.kind == Event::kStore) {
            const int64_t st = ++stamps[static_cast<size_t>(c)];
            if (vc.use_count() == 1) {
              const_cast<Clock&>(*vc)[c] = st;  // not shared: update in place
            } else {
              auto updated = std::make_shared<Clock>(*vc);
              (*updated)[c] = st;
              vc = updated;
            }
            write_range(written, lo, hi, {hi, c, st});
          }
        }
        ++i;
        progress = true;
      }
    }
  }
  for (int c = 0; c < n; ++c) {
    if (pos[static_cast<size_t>(c)] >= events[static_cast<size_t>(c)].size()) continue;
    // Follow the chain of waits from this core.
    std::string chain;
    std::vector<bool> seen(static_cast<size_t>(n), false);
    int cur = c;
    bool prev_send = false;
    while (true) {
      const auto& ev = events[static_cast<size_t>(cur)];
      const size_t i = pos[static_cast<size_t>(cur)];
      if (i >= ev.size()) {
        // The previous core waits on this one: to receive from it, or to send into it.
        const bool sending = !chain.empty() && prev_send;
        chain += fmt::format("core {} (finished: never {} it)", cur, sending ? "receives" : "sends");
        break;
      }
      if (seen[static_cast<size_t>(cur)]) {
        chain += fmt::format("core {} (cycle of waits)", cur);
        break;
      }
      seen[static_cast<size_t>(cur)] = true;
      if (ev[i].kind == Event::kSend) {
        chain += fmt::format(
            "core {} waits at instruction {} to send {} bytes (tag {}) for room in the receive "
            "channel ({} of noc.rx_channel_bytes = {} bytes hold messages not yet received) of ",
            cur, ev[i].pc, ev[i].len, ev[i].tag, in_channel[{cur, ev[i].peer}], rx_channel_bytes);
      } else {
        chain += fmt::format("core {} waits at instruction {} for tag {} from ", cur, ev[i].pc,
                             ev[i].tag);
      }
      prev_send = ev[i].kind == Event::kSend;
      cur = ev[i].peer;
    }
    res.problems.push_back("deadlock: " + chain);
    break;
  }
  for (const auto& [key, q] : queues) {
    if (!q.empty()) {
      res.problems.push_back(fmt::format("{} message(s) from core {} to core {} tag {} never received",
                                         q.size(), std::get<0>(key), std::get<1>(key),
                                         std::get<2>(key)));
      break;
    }
  }
  return res;
}

std::vector<CoreCost> unit_busy_cycles(const Program& p, const ArchSpec& arch, int32_t batch) {
  const ArchDerived d = derive(arch);
  const int64_t bpc = arch.core.buffer_bytes_per_cycle;
  const int64_t lanes = arch.core.vector_lanes;
  const int64_t pipe = arch.core.vector_pipeline_cycles;
  auto ns_to_cycles = [&](double ns) {
    return static_cast<int64_t>(std::ceil(ns / d.cycle_ns - 1e-9));
  };
  const int64_t adcs_per_xbar = std::max(1, arch.pe.adcs / arch.pe.crossbars);
  std::vector<CoreCost> out(p.cores.size());
  for (size_t c = 0; c < p.cores.size(); ++c) {
    const CoreProgram& core = p.cores[c];
    CoreCost& cc = out[c];
    std::map<std::pair<int32_t, int32_t>, int64_t> xbar;  // per (pe, crossbar): tiles may share one
    auto vec = [&](int64_t n, int64_t bytes) {
      cc.vector_cycles += pipe + std::max(ceil_div(n, lanes), ceil_div(bytes, bpc));
    };
    walk_core(core, batch, [&](const Instruction& in, const int32_t*) {
      const auto& im = in.imm;
      switch (in.op) {
        case Op::kCopy: {
          const int64_t n = int64_t{im[0]} * im[1] * im[4];
          vec(n, 2 * n);
          break;
        }
        case Op::kFill: vec(im[0], im[0]); break;
        case Op::kRequant: vec(im[0], 5 * int64_t{im[0]}); break;
        case Op::kAddq:
        case Op::kMax: vec(im[0], 3 * int64_t{im[0]}); break;
        case Op::kAdd32: vec(im[0], 12 * int64_t{im[0]}); break;
        case Op::kSum32: vec(im[0], 9 * int64_t{im[0]}); break;
        case Op::kLut: vec(im[0], 2 * int64_t{im[0]}); break;
        case Op::kMvm: {
          const TileDesc& t = core.tiles.at(static_cast<size_t>(im[0]));
          const int64_t P = int64_t{t.cols} * d.cells_per_weight;
          const double analog = arch.crossbar.read_ns +
                                d.input_steps * std::max(arch.crossbar.read_ns,
                                                         ceil_div(P, adcs_per_xbar) *
                                                             arch.adc.conversion_ns);
          xbar[{t.pe, t.crossbar}] +=
              ceil_div(t.rows, bpc) + ns_to_cycles(analog) + ceil_div(4 * int64_t{t.cols}, bpc);
          break;
        }
        case Op::kSend:
          cc.nic_cycles += ceil_div(im[0], bpc) +
                           ceil_div(ceil_div(im[0], arch.noc.flit_bytes), arch.noc.link_flits_per_cycle);
          break;
        case Op::kRecv: cc.nic_cycles += ceil_div(im[0], bpc); break;
        case Op::kWload: {
          // The transfer occupies the NIC, transfer + programming the crossbar.
          const TileDesc& t = core.tiles.at(static_cast<size_t>(im[0]));
          const int64_t bytes = int64_t{t.rows} * t.cols;
          const int64_t transfer =
              ns_to_cycles(arch.memory.latency_ns + static_cast<double>(bytes) / arch.memory.bandwidth_gb_per_s);
          cc.nic_cycles += transfer;
          xbar[{t.pe, t.crossbar}] += transfer + ns_to_cycles(arch.crossbar.write_ns_per_row * t.rows);
          break;
        }
        case Op::kLoad:
        case Op::kStore:
          cc.nic_cycles += ns_to_cycles(arch.memory.latency_ns +
                                        im[0] / arch.memory.bandwidth_gb_per_s);
          break;
        default: break;
      }
    });
    for (const auto& [where, x] : xbar) cc.crossbar_cycles = std::max(cc.crossbar_cycles, x);
    cc.busy_cycles = std::max({cc.vector_cycles, cc.nic_cycles, cc.crossbar_cycles});
  }
  return out;
}

}  // namespace cimsim::backend
