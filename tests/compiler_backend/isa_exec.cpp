// Functional executor for backend tests (see isa_exec.h).
#include "isa_exec.h"

#include <cstring>
#include <deque>
#include <map>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "platform/spec/qmath.h"

namespace cimsim::testing {
namespace {

struct Fault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Core {
  std::vector<uint8_t> buf;
  int32_t r[16] = {};
  size_t pc = 0;
  bool done = false;
  // Crossbar (pe, crossbar) -> the tile it holds and the codes programmed into it.
  std::map<std::pair<int32_t, int32_t>, std::pair<int32_t, std::vector<int8_t>>> xbar;
};

using Key = std::tuple<int, int, int32_t>;

class Machine {
 public:
  Machine(const Program& p, int64_t buffer_bytes, std::vector<uint8_t> global, int32_t batch)
      : p_(p), global_(std::move(global)) {
    cores_.resize(p.cores.size());
    for (size_t i = 0; i < cores_.size(); ++i) {
      Core& c = cores_[i];
      c.buf.assign(static_cast<size_t>(buffer_bytes), 0xCD);  // garbage: reads of unset bytes show
      c.r[15] = batch;
      // Resident tiles are in their crossbars; reloadable ones are stored in global memory.
      const auto& tiles = p.cores[i].tiles;
      for (size_t t = 0; t < tiles.size(); ++t) {
        const TileDesc& d = tiles[t];
        if (d.weight_global_addr < 0) {
          c.xbar[{d.pe, d.crossbar}] = {static_cast<int32_t>(t), d.weights};
          continue;
        }
        const size_t end = static_cast<size_t>(d.weight_global_addr) + d.weights.size();
        if (global_.size() < end) global_.resize(end, 0);
        std::memcpy(global_.data() + d.weight_global_addr, d.weights.data(), d.weights.size());
      }
    }
  }

  ExecResult run() {
    ExecResult res;
    try {
      bool progress = true;
      while (progress) {
        progress = false;
        for (size_t i = 0; i < cores_.size(); ++i) progress |= step_core(static_cast<int>(i));
      }
      for (size_t i = 0; i < cores_.size(); ++i) {
        if (!cores_[i].done) throw Fault(fmt::format("core {} blocked at pc {}", i, cores_[i].pc));
      }
      for (const auto& [k, q] : queues_) {
        if (!q.empty()) throw Fault("messages left unreceived");
      }
      res.ok = true;
    } catch (const Fault& f) {
      res.error = f.what();
    }
    res.global = std::move(global_);
    res.instructions = executed_;
    return res;
  }

 private:
  uint8_t* loc(Core& c, const Addr& a, int64_t len, int64_t extra = 0) {
    const int64_t base = int64_t{c.r[a.base]} + a.imm + extra;
    if (base < 0 || base + len > static_cast<int64_t>(c.buf.size())) {
      throw Fault(fmt::format("buffer access [{}, {}) out of range", base, base + len));
    }
    return c.buf.data() + base;
  }
  uint8_t* glob(Core& c, const Addr& a, int64_t len) {
    const int64_t base = int64_t{c.r[a.base]} + a.imm;
    if (base < 0) throw Fault("negative global address");
    if (base + len > static_cast<int64_t>(global_.size())) global_.resize(static_cast<size_t>(base + len), 0);
    return global_.data() + base;
  }
  static int32_t rd32(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static void wr32(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
  static int32_t code(uint8_t b, bool uns) { return uns ? int32_t{b} : int32_t{static_cast<int8_t>(b)}; }

  // Runs core i until it blocks or halts; returns whether anything executed.
  bool step_core(int i) {
    Core& c = cores_[static_cast<size_t>(i)];
    const CoreProgram& cp = p_.cores[static_cast<size_t>(i)];
    bool any = false;
    while (!c.done) {
      if (c.pc >= cp.code.size()) {
        c.done = true;
        break;
      }
      const Instruction& in = cp.code[c.pc];
      const auto& im = in.imm;
      size_t next = c.pc + 1;
      switch (in.op) {
        case Op::kLi: c.r[in.rd] = im[0]; break;
        case Op::kAddi: c.r[in.rd] = c.r[in.rs] + im[0]; break;
        case Op::kAdd: c.r[in.rd] = c.r[in.rs] + c.r[in.rt]; break;
        case Op::kBne: if (c.r[in.rs] != c.r[in.rt]) next = static_cast<size_t>(im[0]); break;
        case Op::kBlt: if (c.r[in.rs] < c.r[in.rt]) next = static_cast<size_t>(im[0]); break;
        case Op::kJmp: next = static_cast<size_t>(im[0]); break;
        case Op::kHalt: c.done = true; break;
        case Op::kCopy: {
          const int64_t seg = im[0], n_in = im[1], n_out = im[4];
          std::vector<uint8_t> tmp;
          for (int64_t o = 0; o < n_out; ++o)
            for (int64_t k = 0; k < n_in; ++k) {
              const uint8_t* s = loc(c, in.addr[1], seg, o * im[5] + k * im[2]);
              tmp.insert(tmp.end(), s, s + seg);
            }
          size_t t = 0;
          for (int64_t o = 0; o < n_out; ++o)
            for (int64_t k = 0; k < n_in; ++k) {
              std::memcpy(loc(c, in.addr[0], seg, o * im[6] + k * im[3]), tmp.data() + t, static_cast<size_t>(seg));
              t += static_cast<size_t>(seg);
            }
          break;
        }
        case Op::kFill: std::memset(loc(c, in.addr[0], im[0]), im[1] & 0xFF, static_cast<size_t>(im[0])); break;
        case Op::kRequant: {
          const RequantDesc& q = cp.requant.at(static_cast<size_t>(im[1]));
          uint8_t* d = loc(c, in.addr[0], im[0]);
          const uint8_t* s = loc(c, in.addr[1], 4 * int64_t{im[0]});
          for (int64_t k = 0; k < im[0]; ++k) {
            const size_t ch = static_cast<size_t>(k % q.channels);
            const int32_t v = qmath::requantize(int64_t{rd32(s + 4 * k)} + q.bias[ch],
                                                {q.multiplier[ch], q.shift[ch]}, q.qmin, q.qmax);
            d[k] = static_cast<uint8_t>(v);
          }
          break;
        }
        case Op::kAddq: {
          const RequantDesc& q = cp.requant.at(static_cast<size_t>(im[1]));
          uint8_t* d = loc(c, in.addr[0], im[0]);
          const uint8_t* a = loc(c, in.addr[1], im[0]);
          const uint8_t* b = loc(c, in.addr[2], im[0]);
          std::vector<uint8_t> out(static_cast<size_t>(im[0]));
          for (int64_t k = 0; k < im[0]; ++k) {
            out[static_cast<size_t>(k)] = static_cast<uint8_t>(qmath::add_requantize(
                code(a[k], q.a_unsigned), q.mult_a, code(b[k], q.b_unsigned), q.mult_b, q.add_shift, q.qmin, q.qmax));
          }
          std::memcpy(d, out.data(), out.size());
          break;
        }
        case Op::kMax: {
          uint8_t* d = loc(c, in.addr[0], im[0]);
          const uint8_t* a = loc(c, in.addr[1], im[0]);
          const uint8_t* b = loc(c, in.addr[2], im[0]);
          for (int64_t k = 0; k < im[0]; ++k) {
            d[k] = code(a[k], im[1]) >= code(b[k], im[1]) ? a[k] : b[k];
          }
          break;
        }
        case Op::kSum32: {
          uint8_t* d = loc(c, in.addr[0], 4 * int64_t{im[0]});
          const uint8_t* s = loc(c, in.addr[1], im[0]);
          for (int64_t k = 0; k < im[0]; ++k) wr32(d + 4 * k, rd32(d + 4 * k) + code(s[k], im[1]));
          break;
        }
        case Op::kAdd32: {
          uint8_t* d = loc(c, in.addr[0], 4 * int64_t{im[0]});
          const uint8_t* a = loc(c, in.addr[1], 4 * int64_t{im[0]});
          const uint8_t* b = loc(c, in.addr[2], 4 * int64_t{im[0]});
          for (int64_t k = 0; k < im[0]; ++k) wr32(d + 4 * k, rd32(a + 4 * k) + rd32(b + 4 * k));
          break;
        }
        case Op::kLut: {
          const LutDesc& l = cp.luts.at(static_cast<size_t>(im[1]));
          const int32_t n = static_cast<int32_t>(l.table.size());
          const int32_t qmin = l.in_unsigned ? 0 : -n / 2;
          uint8_t* d = loc(c, in.addr[0], im[0]);
          const uint8_t* s = loc(c, in.addr[1], im[0]);
          for (int64_t k = 0; k < im[0]; ++k) {
            const int32_t idx = ((code(s[k], l.in_unsigned) - qmin) % n + n) % n;
            d[k] = static_cast<uint8_t>(l.table[static_cast<size_t>(idx)]);
          }
          break;
        }
        case Op::kWload: {
          const TileDesc& t = cp.tiles.at(static_cast<size_t>(im[0]));
          const int64_t n = int64_t{t.rows} * t.cols;
          const int64_t a = t.weight_global_addr;
          if (a < 0) throw Fault("wload of a resident tile");
          if (a + n > static_cast<int64_t>(global_.size())) global_.resize(static_cast<size_t>(a + n), 0);
          const int8_t* src = reinterpret_cast<const int8_t*>(global_.data() + a);
          c.xbar[{t.pe, t.crossbar}] = {im[0], std::vector<int8_t>(src, src + n)};
          break;
        }
        case Op::kMvm: {
          const TileDesc& t = cp.tiles.at(static_cast<size_t>(im[0]));
          auto held = c.xbar.find({t.pe, t.crossbar});
          if (held == c.xbar.end() || held->second.first != im[0]) {
            throw Fault(fmt::format("core {} pc {}: mvm t{} but its crossbar holds another tile", i, c.pc, im[0]));
          }
          const std::vector<int8_t>& wts = held->second.second;
          uint8_t* d = loc(c, in.addr[0], 4 * int64_t{t.cols});
          const uint8_t* s = loc(c, in.addr[1], t.rows);
          for (int32_t col = 0; col < t.cols; ++col) {
            int64_t acc = im[1] ? rd32(d + 4 * col) : 0;
            for (int32_t r = 0; r < t.rows; ++r) {
              acc += int64_t{wts[static_cast<size_t>(r * t.cols + col)]} * code(s[r], t.input_unsigned);
            }
            wr32(d + 4 * col, static_cast<int32_t>(acc));
          }
          break;
        }
        case Op::kSend: {
          const uint8_t* s = loc(c, in.addr[1], im[0]);
          queues_[{i, im[1], im[2]}].emplace_back(s, s + im[0]);
          break;
        }
        case Op::kRecv: {
          auto it = queues_.find({im[1], i, im[2]});
          if (it == queues_.end() || it->second.empty()) return any;  // blocked
          if (static_cast<int64_t>(it->second.front().size()) != im[0]) throw Fault("recv length mismatch");
          std::memcpy(loc(c, in.addr[0], im[0]), it->second.front().data(), static_cast<size_t>(im[0]));
          it->second.pop_front();
          break;
        }
        case Op::kLoad:
          std::memcpy(loc(c, in.addr[0], im[0]), glob(c, in.addr[2], im[0]), static_cast<size_t>(im[0]));
          break;
        case Op::kStore:
          std::memcpy(glob(c, in.addr[2], im[0]), loc(c, in.addr[1], im[0]), static_cast<size_t>(im[0]));
          break;
      }
      c.r[0] = 0;
      c.pc = next;
      any = true;
      if (++executed_ > (int64_t{1} << 30)) throw Fault("runaway program");
    }
    return any;
  }

  const Program& p_;
  std::vector<uint8_t> global_;
  std::vector<Core> cores_;
  std::map<Key, std::deque<std::vector<uint8_t>>> queues_;
  int64_t executed_ = 0;
};

}  // namespace

ExecResult execute(const Program& p, int64_t buffer_bytes, std::vector<uint8_t> global, int32_t batch) {
  return Machine(p, buffer_bytes, std::move(global), batch).run();
}

}  // namespace cimsim::testing
