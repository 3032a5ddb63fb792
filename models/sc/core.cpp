#include "models/sc/core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "models/kernels/tile_programming.h"
#include "models/sc/inst_text.h"
#include "models/sc/noc.h"
#include "models/sc/noc_protocol.h"
#include "models/sc/sim_time.h"
#include "models/sc/sim_error.h"
#include "platform/spec/qmath.h"

namespace cimsim {

namespace {

constexpr int kBlockShift = 5;                // scoreboard granularity: 32-byte blocks
constexpr uint64_t kQuantumCycles = 100000;   // longest a core runs ahead of SystemC time
constexpr uint64_t kProgressBatch = 4096;

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Identifies the weight codes a reloadable tile was built from. Eight bytes per multiply
// (every tile of the chip is hashed at construction; byte-wise FNV-1a cost ~15 ms on ResNet-18),
// a multiply and xor-shift per word and mix64 at the end so every input bit reaches every output bit.
uint64_t hash_bytes(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return mix64(h);
}

// Scoreboard range scans (a vector op's span can cover hundreds of 32-byte blocks). Unsigned
// 64-bit max only vectorizes with AVX-512 (vpmaxuq), hence the clones; the result is the
// same integer on every clone.
__attribute__((target_clones("arch=x86-64-v4", "default"))) uint64_t max_over(const uint64_t* p,
                                                                               size_t n) {
  uint64_t r = 0;
  for (size_t i = 0; i < n; ++i) r = std::max(r, p[i]);
  return r;
}

__attribute__((target_clones("arch=x86-64-v4", "default"))) void raise_to(uint64_t* p, size_t n,
                                                                          uint64_t v) {
  for (size_t i = 0; i < n; ++i) p[i] = std::max(p[i], v);
}

int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void store_i32(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
int32_t code_value(uint8_t b, bool is_unsigned) {
  return is_unsigned ? static_cast<int32_t>(b) : static_cast<int32_t>(static_cast<int8_t>(b));
}

}  // namespace

Core::Core(sc_core::sc_module_name name, int index, const ArchSpec& arch, const TimingParams& timing,
           const CostTable& costs, const CoreProgram& program, uint64_t seed, Observer* observer,
           ChipContext* context, Mailbox* mailbox)
    : sc_core::sc_module(name),
      noc_socket("noc_socket"),
      buffer_socket("buffer_socket"),
      index_(index),
      t_(timing),
      costs_(costs),
      observer_(observer),
      context_(context),
      mailbox_(mailbox) {
  noc_socket.register_nb_transport_bw(this, &Core::nb_transport_bw);
  program_.code = program.code;
  program_.requant = program.requant;
  program_.luts = program.luts;
  // Malformed tables fail only when an instruction uses them (validate() reports them earlier).
  for (const RequantDesc& q : program_.requant) {
    bool ok;
    if (q.kind == RequantDesc::Kind::kAdd) {
      ok = q.add_shift >= 0 && q.add_shift <= 62;
    } else {
      const size_t ch = static_cast<size_t>(std::max(0, q.channels));
      ok = q.channels > 0 && q.bias.size() >= ch && q.multiplier.size() >= ch && q.shift.size() >= ch;
      for (size_t c = 0; ok && c < ch; ++c) ok = q.shift[c] >= 0 && q.shift[c] <= 62;
    }
    requant_ok_.push_back(ok);
  }
  const int pes = std::max(1, arch.core.pes);
  const int xbars = t_.crossbars_per_pe;
  units_.resize(static_cast<size_t>(kFirstCrossbarUnit + pes * xbars));
  for (UnitState& u : units_) u.queue_starts.assign(static_cast<size_t>(t_.queue_depth), 0);
  xbar_busy_.assign(static_cast<size_t>(pes * xbars), 0);
  adc_free_.assign(static_cast<size_t>(pes * t_.adcs_per_pe), 0);
  ports_.resize(static_cast<size_t>(t_.buffer_ports));
  // Tiles are programmed up front (each from its own seed stream, so the cells would not
  // depend on threads if program_tiles used several); errors are rethrown below in tile order.
  std::vector<uint64_t> streams(program.tiles.size());
  for (size_t i = 0; i < streams.size(); ++i)
    streams[i] = mix64(mix64(seed ^ mix64(static_cast<uint64_t>(index))) + i);
  std::vector<kernels::ProgrammedTileResult> programmed =
      kernels::program_tiles(arch, program.tiles, streams, kernels::default_programming_threads());
  for (size_t i = 0; i < program.tiles.size(); ++i) {
    const TileDesc& td = program.tiles[i];
    std::string where = "program: core " + std::to_string(index) + ", tile " + std::to_string(i) + ": ";
    if (td.pe < 0 || td.pe >= pes || td.crossbar < 0 || td.crossbar >= xbars)
      throw InputError(where + "pe " + std::to_string(td.pe) + " crossbar " +
                       std::to_string(td.crossbar) + " is outside the core (" + std::to_string(pes) +
                       " PEs x " + std::to_string(xbars) + " crossbars)");
    TileRuntime tr;
    const uint64_t stream = streams[i];
    if (programmed[i].error) std::rethrow_exception(programmed[i].error);
    tr.tile = std::move(programmed[i].tile);
    tr.xbar = td.pe * xbars + td.crossbar;
    tr.unit = kFirstCrossbarUnit + tr.xbar;
    tr.adc = td.pe * t_.adcs_per_pe + td.crossbar % t_.adcs_per_pe;
    tr.rows = td.rows;
    tr.cols = td.cols;
    tr.analog_cycles = t_.mvm_analog_cycles(td.cols);
    tr.in_cycles = t_.buffer_cycles(td.rows);
    tr.out_cycles = t_.buffer_cycles(4 * static_cast<int64_t>(td.cols));
    tr.scratch.assign(static_cast<size_t>(std::max(0, td.cols)), 0);
    tr.weight_global_addr = td.weight_global_addr;
    tr.weights_hash = hash_bytes(reinterpret_cast<const uint8_t*>(td.weights.data()), td.weights.size());
    tr.seed_stream = stream;
    tr.input_unsigned = td.input_unsigned;
    tr.layer = td.layer;
    tr.adc_full_scale = td.adc_full_scale;
    tr.adc_offset_lsb = td.adc_offset_lsb;
    tiles_.push_back(std::move(tr));
  }
  if (arch.pe.shift_add_model == ShiftAddModel::kRtl) {
    const std::string key = (arch.source_path.empty() ? std::string("arch spec") : arch.source_path) +
                            ": pe.shift_add_model";
    for (size_t i = 0; i < tiles_.size(); ++i)
      if (!tiles_[i].tile->integer_samples())
        throw InputError(key + ": rtl needs integer ADC codes "
                         "(adc.range lsb_aligned or adc.lossless without offset/gain error, and no "
                         "programming/read noise or conductance_levels); core " + std::to_string(index) +
                         ", tile " + std::to_string(i) + " has real-valued ones");
    shift_add_ = make_rtl_shift_add("shift_add", key);
  }
  // At start each crossbar holds its resident tile (at most one: validate() checks it).
  arch_ = &arch;
  write_ns_per_row_ = arch.crossbar.write_ns_per_row;
  xbar_holds_.assign(static_cast<size_t>(pes * xbars), -1);
  for (size_t i = 0; i < tiles_.size(); ++i) {
    if (tiles_[i].weight_global_addr >= 0) continue;
    int& h = xbar_holds_[static_cast<size_t>(tiles_[i].xbar)];
    if (h >= 0)
      throw InputError("program: core " + std::to_string(index) + ", tile " + std::to_string(i) +
                       ": its crossbar already holds resident tile " + std::to_string(h));
    h = static_cast<int>(i);
  }
  const size_t blocks = static_cast<size_t>((t_.buffer_bytes >> kBlockShift) + 1);
  block_written_.assign(blocks, 0);
  block_read_.assign(blocks, 0);
  SC_THREAD(thread);
}

Core::~Core() = default;

const Instruction* Core::current_instruction() const {
  return pc_ < program_.code.size() ? &program_.code[pc_] : nullptr;
}

void Core::fail(const std::string& what) const { throw SimError(where() + what); }

void Core::thread() {
  try {
    tlm::tlm_generic_payload probe;
    tlm::tlm_dmi dmi;
    probe.set_address(0);
    if (buffer_socket->get_direct_mem_ptr(probe, dmi)) {
      buf_ = dmi.get_dmi_ptr();
      buf_bytes_ = static_cast<int64_t>(dmi.get_end_address() - dmi.get_start_address() + 1);
    }
    regs_[kBatchRegister] = context_->batch;
    interpret();
  } catch (const SimError& e) {
    stop_with(e.what());
  } catch (const InputError& e) {
    stop_with(where() + e.what());
  } catch (const std::out_of_range& e) {  // the kernel's "input code outside activation_bits"
    stop_with(where() + e.what());
  } catch (const std::exception& e) {
    stop_with("internal: " + where() + e.what());
  }
}

std::string Core::where() const {
  std::string text = pc_ < program_.code.size() ? instruction_text(program_.code[pc_]) : "end of stream";
  return "core " + std::to_string(index_) + ", pc " + std::to_string(pc_) + " (" + text + "): ";
}

void Core::stop_with(const std::string& message) {
  if (context_->error.empty()) context_->error = message;
  sc_core::sc_stop();
}

uint64_t Core::now_cycle() const { return current_cycle(t_); }

std::string Core::waiting_for() const {
  const std::string n = std::to_string(wait_.len);
  switch (wait_.kind) {
    case Wait::kRecv:
      return "recv from core " + std::to_string(wait_.peer) + " tag " + std::to_string(wait_.tag);
    case Wait::kAdmission:
      return "network admission of a " + n + "-byte message to core " + std::to_string(wait_.peer) +
             " tag " + std::to_string(wait_.tag) + " (its receive channel from this core is full)";
    case Wait::kLoad: return "global memory load of " + n + " bytes";
    case Wait::kStore: return "global memory store of " + n + " bytes";
    case Wait::kWload: return "global memory load of tile " + std::to_string(wait_.peer) + "'s weights";
    default: return "";
  }
}

void Core::sync_to(uint64_t cycle) {
  if (cycle <= synced_) return;
  sc_core::wait(sc_core::sc_time(static_cast<double>(t_.to_ps(cycle) - t_.to_ps(synced_)), sc_core::SC_PS));
  synced_ = cycle;
}

int64_t Core::address(const Addr& a, int64_t len) const {
  int64_t addr = static_cast<int64_t>(regs_[a.base & 15]) + a.imm;
  if (len < 0 || addr < 0 || addr + len > buf_bytes_)
    fail("buffer access [" + std::to_string(addr) + ", " + std::to_string(addr + len) +
         ") is outside the local buffer of " + std::to_string(buf_bytes_) + " bytes");
  return addr;
}

uint64_t Core::dispatch(int unit) {
  UnitState& u = units_[static_cast<size_t>(unit)];
  uint64_t d = std::max(t_dispatch_, u.queue_starts[u.pos]);
  t_dispatch_ = d + 1;
  return d;
}

void Core::retire(int unit, uint64_t start, uint64_t end) {
  UnitState& u = units_[static_cast<size_t>(unit)];
  u.queue_starts[u.pos] = start;
  if (++u.pos == u.queue_starts.size()) u.pos = 0;
  u.free = end;
  add_busy(start, end);
}

uint64_t Core::read_ready(int64_t addr, int64_t len) const {
  if (len <= 0) return 0;
  const int64_t b = addr >> kBlockShift, e = (addr + len - 1) >> kBlockShift;
  return max_over(block_written_.data() + b, static_cast<size_t>(e - b + 1));
}

uint64_t Core::write_ready(int64_t addr, int64_t len) const {
  if (len <= 0) return 0;
  const int64_t b = addr >> kBlockShift, e = (addr + len - 1) >> kBlockShift;
  const size_t n = static_cast<size_t>(e - b + 1);
  return std::max(max_over(block_written_.data() + b, n), max_over(block_read_.data() + b, n));
}

void Core::mark_read(int64_t addr, int64_t len, uint64_t start) {
  if (len <= 0) return;
  const int64_t b = addr >> kBlockShift, e = (addr + len - 1) >> kBlockShift;
  raise_to(block_read_.data() + b, static_cast<size_t>(e - b + 1), start);
}

void Core::mark_write(int64_t addr, int64_t len, uint64_t end) {
  if (len <= 0) return;
  const int64_t b = addr >> kBlockShift, e = (addr + len - 1) >> kBlockShift;
  raise_to(block_written_.data() + b, static_cast<size_t>(e - b + 1), end);
}

uint64_t Core::reserve_port(uint64_t want, uint64_t cycles, uint64_t floor) {
  size_t best = 0;
  if (ports_.size() > 1 && cycles > 0) {
    uint64_t best_start = ports_[0].earliest(want, cycles);
    for (size_t k = 1; k < ports_.size() && best_start > want; ++k) {
      const uint64_t s = ports_[k].earliest(want, cycles);
      if (s < best_start) {
        best_start = s;
        best = k;
      }
    }
  }
  return ports_[best].reserve(want, cycles, floor);
}

void Core::add_busy(uint64_t a, uint64_t b) {
  if (b <= a) return;
  if (!busy_pending_.empty()) {
    auto& last = busy_pending_.back();
    if (a >= last.first && a <= last.second) {
      last.second = std::max(last.second, b);
      return;
    }
  }
  busy_pending_.emplace_back(a, b);
  // Every later interval starts at or after the dispatch cycle, so what lies before it is final.
  if (busy_pending_.size() >= 512) flush_busy(t_dispatch_);
}

void Core::flush_busy(uint64_t before) {
  std::sort(busy_pending_.begin(), busy_pending_.end());
  std::vector<std::pair<uint64_t, uint64_t>> keep;
  uint64_t cur_a = 0, cur_b = 0;
  bool open = false;
  auto close = [&]() {
    if (!open) return;
    if (cur_b <= before) {
      busy_cycles_ += cur_b - cur_a;
    } else if (cur_a < before) {
      busy_cycles_ += before - cur_a;
      keep.emplace_back(before, cur_b);
    } else {
      keep.emplace_back(cur_a, cur_b);
    }
  };
  for (const auto& iv : busy_pending_) {
    if (open && iv.first <= cur_b) {
      cur_b = std::max(cur_b, iv.second);
    } else {
      close();
      cur_a = iv.first;
      cur_b = iv.second;
      open = true;
    }
  }
  close();
  busy_pending_.swap(keep);
}

void Core::emit(Unit unit, int index, const Instruction& in, uint64_t start, uint64_t end, double pj) {
  SimEvent e;
  e.core = index_;
  e.unit = unit;
  e.unit_index = index;
  e.layer = in.layer;
  e.action = op_name(in.op);
  e.start_ps = t_.to_ps(start);
  e.duration_ps = t_.to_ps(end) - e.start_ps;
  e.energy_pj = pj;
  e.pc = pc_;
  observer_->on_event(e);
}

void Core::emit_wait(int kind, const Instruction& in, uint64_t from, uint64_t until) {
  if (!observer_ || until <= from) return;
  SimEvent e;
  e.core = index_;
  e.unit = Unit::kWait;
  e.unit_index = kind;
  e.layer = in.layer;
  e.action = kind == 0 ? "credit wait" : "memory queue wait";
  e.start_ps = t_.to_ps(from);
  e.duration_ps = t_.to_ps(until) - e.start_ps;
  e.pc = pc_;
  observer_->on_event(e);
}

void Core::interpret() {
  const Instruction* code = program_.code.data();
  const uint32_t n = static_cast<uint32_t>(program_.code.size());
  const double scalar_pj = costs_[Component::kScalarUnit];
  uint64_t batch = 0;
  for (;;) {
    if (pc_ >= n) break;
    const Instruction& in = code[pc_];
    ++instructions_;
    if (++batch == kProgressBatch) {
      context_->progress.fetch_add(batch, std::memory_order_relaxed);
      batch = 0;
    }
    if (t_dispatch_ > synced_ + kQuantumCycles) sync_to(t_dispatch_);
    uint64_t cycles = 1;
    uint32_t next = pc_ + 1;
    switch (in.op) {
      case Op::kLi:
        regs_[in.rd & 15] = in.imm[0];
        break;
      case Op::kAddi:
        regs_[in.rd & 15] = static_cast<int32_t>(static_cast<uint32_t>(regs_[in.rs & 15]) +
                                                 static_cast<uint32_t>(in.imm[0]));
        break;
      case Op::kAdd:
        regs_[in.rd & 15] = static_cast<int32_t>(static_cast<uint32_t>(regs_[in.rs & 15]) +
                                                 static_cast<uint32_t>(regs_[in.rt & 15]));
        break;
      case Op::kBne:
      case Op::kBlt:
      case Op::kJmp: {
        int32_t a = regs_[in.rs & 15], b = regs_[in.rt & 15];
        bool taken = in.op == Op::kJmp || (in.op == Op::kBne ? a != b : a < b);
        if (taken) {
          if (in.imm[0] < 0 || static_cast<uint32_t>(in.imm[0]) > n)
            fail("branch target " + std::to_string(in.imm[0]) + " is outside the stream");
          next = static_cast<uint32_t>(in.imm[0]);
          cycles = 2;
        }
        break;
      }
      case Op::kHalt:
        next = n;
        break;
      case Op::kCopy: case Op::kFill: case Op::kRequant: case Op::kAddq: case Op::kAdd32:
      case Op::kMax: case Op::kSum32: case Op::kLut:
        exec_vector(in, dispatch(kVectorUnit));
        pc_ = next;
        continue;
      case Op::kMvm: {
        int32_t tile = in.imm[0];
        if (tile < 0 || static_cast<size_t>(tile) >= tiles_.size())
          fail("tile " + std::to_string(tile) + " does not exist");
        exec_mvm(in, dispatch(tiles_[static_cast<size_t>(tile)].unit));
        pc_ = next;
        continue;
      }
      case Op::kWload: {
        int32_t tile = in.imm[0];
        if (tile < 0 || static_cast<size_t>(tile) >= tiles_.size() ||
            tiles_[static_cast<size_t>(tile)].weight_global_addr < 0)
          fail("tile " + std::to_string(tile) + " does not exist or is not reloadable");
        exec_wload(in, dispatch(tiles_[static_cast<size_t>(tile)].unit));
        pc_ = next;
        continue;
      }
      case Op::kSend: case Op::kRecv: case Op::kLoad: case Op::kStore:
        exec_nic(in, dispatch(kNicUnit));
        pc_ = next;
        continue;
      default:
        fail("unknown opcode " + std::to_string(static_cast<int>(in.op)));
    }
    // Scalar instructions execute at dispatch.
    regs_[0] = 0;
    const uint64_t start = t_dispatch_;
    t_dispatch_ += cycles;
    add_busy(start, t_dispatch_);
    context_->ledger.add(Component::kScalarUnit, in.layer, scalar_pj);
    context_->layer_times.add(in.layer, start, t_dispatch_, LayerWork::kScalar);
    if (observer_) emit(Unit::kScalar, 0, in, start, t_dispatch_, scalar_pj);
    pc_ = next;
  }
  context_->progress.fetch_add(batch, std::memory_order_relaxed);
  uint64_t finish = t_dispatch_;
  for (const UnitState& u : units_) finish = std::max(finish, u.free);
  flush_busy(std::numeric_limits<uint64_t>::max());
  finish_cycle_ = finish;
  sync_to(finish);
  halted_ = true;
  if (context_->on_core_halted) context_->on_core_halted();
}

void Core::exec_vector(const Instruction& in, uint64_t d) {
  const int64_t len = in.imm[0];
  int64_t elements = 0, moved = 0;
  int64_t src[2] = {0, 0}, src_len[2] = {0, 0}, dst = 0, dst_len = 0;
  auto table_check = [&](bool ok, const char* what) {
    if (!ok) fail(what);
  };
  // Operand ranges first (bounding spans), so a bad access changes nothing.
  int64_t copy_src_base = 0, copy_dst_base = 0;
  switch (in.op) {
    case Op::kCopy: {
      const int64_t seg = in.imm[0], n_in = in.imm[1], s_in = in.imm[2], d_in = in.imm[3],
                    n_out = in.imm[4], s_out = in.imm[5], d_out = in.imm[6];
      if (seg < 0 || n_in < 0 || n_out < 0) fail("copy sizes must be >= 0");
      elements = seg * n_in * n_out;
      moved = 2 * elements;
      if (elements > 0) {
        int64_t s_lo = std::min<int64_t>(0, (n_in - 1) * s_in) + std::min<int64_t>(0, (n_out - 1) * s_out);
        int64_t s_hi = std::max<int64_t>(0, (n_in - 1) * s_in) + std::max<int64_t>(0, (n_out - 1) * s_out) + seg;
        int64_t d_lo = std::min<int64_t>(0, (n_in - 1) * d_in) + std::min<int64_t>(0, (n_out - 1) * d_out);
        int64_t d_hi = std::max<int64_t>(0, (n_in - 1) * d_in) + std::max<int64_t>(0, (n_out - 1) * d_out) + seg;
        copy_src_base = static_cast<int64_t>(regs_[in.addr[1].base & 15]) + in.addr[1].imm;
        copy_dst_base = static_cast<int64_t>(regs_[in.addr[0].base & 15]) + in.addr[0].imm;
        src[0] = copy_src_base + s_lo;
        src_len[0] = s_hi - s_lo;
        dst = copy_dst_base + d_lo;
        dst_len = d_hi - d_lo;
        if (src[0] < 0 || src[0] + src_len[0] > buf_bytes_ || dst < 0 || dst + dst_len > buf_bytes_)
          fail("copy touches bytes outside the local buffer of " + std::to_string(buf_bytes_) +
               " bytes (source span [" + std::to_string(src[0]) + ", " +
               std::to_string(src[0] + src_len[0]) + "), destination span [" + std::to_string(dst) +
               ", " + std::to_string(dst + dst_len) + "))");
      }
      break;
    }
    case Op::kFill:
      elements = len;
      moved = len;
      dst = address(in.addr[0], len);
      dst_len = len;
      break;
    case Op::kRequant:
      elements = len;
      moved = 5 * len;
      dst = address(in.addr[0], len);
      dst_len = len;
      src[0] = address(in.addr[1], 4 * len);
      src_len[0] = 4 * len;
      break;
    case Op::kAddq:
    case Op::kMax:
      elements = len;
      moved = 3 * len;
      dst = address(in.addr[0], len);
      dst_len = len;
      src[0] = address(in.addr[1], len);
      src_len[0] = len;
      src[1] = address(in.addr[2], len);
      src_len[1] = len;
      break;
    case Op::kAdd32:
      elements = len;
      moved = 12 * len;
      dst = address(in.addr[0], 4 * len);
      dst_len = 4 * len;
      src[0] = address(in.addr[1], 4 * len);
      src_len[0] = 4 * len;
      src[1] = address(in.addr[2], 4 * len);
      src_len[1] = 4 * len;
      break;
    case Op::kSum32:
      elements = len;
      moved = 9 * len;
      dst = address(in.addr[0], 4 * len);
      dst_len = 4 * len;
      src[0] = address(in.addr[1], len);
      src_len[0] = len;
      src[1] = dst;  // accumulates into D
      src_len[1] = dst_len;
      break;
    case Op::kLut:
      elements = len;
      moved = 2 * len;
      dst = address(in.addr[0], len);
      dst_len = len;
      src[0] = address(in.addr[1], len);
      src_len[0] = len;
      break;
    default:
      break;
  }

  UnitState& u = units_[kVectorUnit];
  uint64_t start = std::max(d, u.free);
  start = std::max({start, read_ready(src[0], src_len[0]), read_ready(src[1], src_len[1]),
                    write_ready(dst, dst_len)});
  // The op's reads and writes hold the port for one block of cycles from its start.
  start = reserve_port(start, t_.buffer_cycles(moved), d);

  uint8_t* b = buf_;
  switch (in.op) {
    case Op::kCopy: {
      const int64_t seg = in.imm[0], n_in = in.imm[1], s_in = in.imm[2], d_in = in.imm[3],
                    n_out = in.imm[4], s_out = in.imm[5], d_out = in.imm[6];
      if (elements > 0) {
        for (int64_t o = 0; o < n_out; ++o)
          for (int64_t i = 0; i < n_in; ++i)
            std::memmove(b + copy_dst_base + o * d_out + i * d_in,
                         b + copy_src_base + o * s_out + i * s_in, static_cast<size_t>(seg));
      }
      break;
    }
    case Op::kFill:
      std::memset(b + dst, in.imm[1] & 0xFF, static_cast<size_t>(len));
      break;
    case Op::kRequant: {
      int32_t qid = in.imm[1];
      table_check(qid >= 0 && static_cast<size_t>(qid) < program_.requant.size(), "qid does not exist");
      const RequantDesc& q = program_.requant[static_cast<size_t>(qid)];
      const size_t ch = static_cast<size_t>(q.channels);
      table_check(q.kind == RequantDesc::Kind::kPerChannel && requant_ok_[static_cast<size_t>(qid)],
                  "requant needs a well-formed per-channel parameter set (channels > 0, "
                  "`channels` entries each, shifts 0..62)");
      size_t c = 0;
      for (int64_t i = 0; i < len; ++i) {
        int64_t acc = static_cast<int64_t>(load_i32(b + src[0] + 4 * i)) + q.bias[c];
        int32_t v = qmath::requantize(acc, {q.multiplier[c], q.shift[c]}, q.qmin, q.qmax);
        b[dst + i] = static_cast<uint8_t>(v);
        if (++c == ch) c = 0;
      }
      break;
    }
    case Op::kAddq: {
      int32_t qid = in.imm[1];
      table_check(qid >= 0 && static_cast<size_t>(qid) < program_.requant.size(), "qid does not exist");
      const RequantDesc& q = program_.requant[static_cast<size_t>(qid)];
      table_check(q.kind == RequantDesc::Kind::kAdd && requant_ok_[static_cast<size_t>(qid)],
                  "addq needs a well-formed add parameter set (add_shift 0..62)");
      for (int64_t i = 0; i < len; ++i) {
        int32_t v = qmath::add_requantize(code_value(b[src[0] + i], q.a_unsigned), q.mult_a,
                                          code_value(b[src[1] + i], q.b_unsigned), q.mult_b, q.add_shift,
                                          q.qmin, q.qmax);
        b[dst + i] = static_cast<uint8_t>(v);
      }
      break;
    }
    case Op::kAdd32:
      for (int64_t i = 0; i < len; ++i) {
        uint32_t v = static_cast<uint32_t>(load_i32(b + src[0] + 4 * i)) +
                     static_cast<uint32_t>(load_i32(b + src[1] + 4 * i));
        store_i32(b + dst + 4 * i, static_cast<int32_t>(v));
      }
      break;
    case Op::kMax: {
      const bool uns = in.imm[1] != 0;
      for (int64_t i = 0; i < len; ++i) {
        uint8_t x = b[src[0] + i], y = b[src[1] + i];
        b[dst + i] = code_value(x, uns) >= code_value(y, uns) ? x : y;
      }
      break;
    }
    case Op::kSum32: {
      const bool uns = in.imm[1] != 0;
      for (int64_t i = 0; i < len; ++i) {
        uint32_t v = static_cast<uint32_t>(load_i32(b + dst + 4 * i)) +
                     static_cast<uint32_t>(code_value(b[src[0] + i], uns));
        store_i32(b + dst + 4 * i, static_cast<int32_t>(v));
      }
      break;
    }
    case Op::kLut: {
      int32_t lid = in.imm[1];
      table_check(lid >= 0 && static_cast<size_t>(lid) < program_.luts.size(), "lid does not exist");
      const LutDesc& l = program_.luts[static_cast<size_t>(lid)];
      const int64_t size = static_cast<int64_t>(l.table.size());
      const int64_t offset = l.in_unsigned ? 0 : size / 2;
      for (int64_t i = 0; i < len; ++i) {
        int64_t k = code_value(b[src[0] + i], l.in_unsigned) + offset;
        if (k < 0 || k >= size)
          fail("code " + std::to_string(k - offset) + " is outside lookup table " + std::to_string(lid));
        b[dst + i] = static_cast<uint8_t>(l.table[static_cast<size_t>(k)]);
      }
      break;
    }
    default:
      break;
  }

  const uint64_t end = start + t_.vector_cycles(elements, moved);
  mark_read(src[0], src_len[0], start);
  mark_read(src[1], src_len[1], start);
  mark_write(dst, dst_len, end);
  retire(kVectorUnit, start, end);
  double pj = 0;
  charge(Component::kVectorUnit, in.layer, static_cast<double>(elements), &pj);
  charge(Component::kBuffer, in.layer, static_cast<double>(t_.buffer_cycles(moved)), &pj);
  charge(Component::kBus, in.layer, static_cast<double>(moved), &pj);
  context_->layer_times.add(in.layer, start, end, LayerWork::kUnit);
  if (observer_) emit(Unit::kVector, 0, in, start, end, pj);
}

void Core::exec_mvm(const Instruction& in, uint64_t d) {
  TileRuntime& tr = tiles_[static_cast<size_t>(in.imm[0])];
  const int held = xbar_holds_[static_cast<size_t>(tr.xbar)];
  if (held != in.imm[0]) {
    const int pe = tr.xbar / t_.crossbars_per_pe, xb = tr.xbar % t_.crossbars_per_pe;
    fail("tile " + std::to_string(in.imm[0]) + " is not in its crossbar (pe " + std::to_string(pe) +
         " crossbar " + std::to_string(xb) + " holds " +
         (held < 0 ? std::string("no tile") : "tile " + std::to_string(held)) +
         "; wload t" + std::to_string(in.imm[0]) + " first)");
  }
  const bool acc = in.imm[1] != 0;
  const int64_t out_bytes = 4 * static_cast<int64_t>(tr.cols);
  const int64_t s = address(in.addr[1], tr.rows);
  const int64_t dst = address(in.addr[0], out_bytes);
  UnitState& u = units_[static_cast<size_t>(tr.unit)];
  uint64_t start = std::max({d, u.free, read_ready(s, tr.rows), write_ready(dst, out_bytes)});

  MvmStats st;
  if (acc) std::memcpy(tr.scratch.data(), buf_ + dst, static_cast<size_t>(out_bytes));
  // Cycles from the last ADC conversion to the shift-and-add result: the tlm model's figure,
  // or what the RTL took (docs/timing.md, docs/cosim.md).
  uint64_t shift_add_latency = t_.shift_add_latency;
  if (shift_add_) {
    tr.tile->digitize(buf_ + s, acc ? tr.scratch.data() : nullptr, &shift_add_job_, &st);
    shift_add_latency = shift_add_->run(shift_add_job_, tr.scratch.data());
  } else {
    tr.tile->mvm(buf_ + s, tr.scratch.data(), acc, &st);
  }
  std::memcpy(buf_ + dst, tr.scratch.data(), static_cast<size_t>(out_bytes));

  start = reserve_port(start, tr.in_cycles, d);  // input register load
  uint64_t analog = start + tr.in_cycles;
  if (t_.adc_shared) {
    uint64_t& adc = adc_free_[static_cast<size_t>(tr.adc)];
    analog = std::max(analog, adc);
    adc = analog + tr.analog_cycles;
  }
  // Accumulator write (read-modify-write of D when acc=1).
  const uint64_t out_cycles = acc ? 2 * tr.out_cycles : tr.out_cycles;
  const uint64_t end =
      reserve_port(analog + tr.analog_cycles + shift_add_latency, out_cycles, d) + out_cycles;
  mark_read(s, tr.rows, start);
  mark_write(dst, out_bytes, end);
  retire(tr.unit, start, end);
  xbar_busy_[static_cast<size_t>(tr.xbar)] += end - start;
  context_->mvms += 1;
  context_->macs += static_cast<uint64_t>(tr.rows) * static_cast<uint64_t>(tr.cols);
  context_->adc_conversions += static_cast<uint64_t>(st.adc_conversions);
  context_->adc_saturations += static_cast<uint64_t>(st.adc_saturations);

  const int64_t moved = tr.rows + out_bytes + (acc ? out_bytes : 0);
  const uint64_t accesses = tr.in_cycles + tr.out_cycles + (acc ? tr.out_cycles : 0);
  double pj = 0;
  charge(Component::kCrossbar, in.layer, static_cast<double>(st.input_steps), &pj);
  charge(Component::kDac, in.layer, static_cast<double>(st.row_drives), &pj);
  charge(Component::kSnh, in.layer, static_cast<double>(st.adc_conversions), &pj);
  charge(Component::kAdc, in.layer, static_cast<double>(st.adc_conversions), &pj);
  charge(Component::kShiftAdd, in.layer, static_cast<double>(st.shift_adds), &pj);
  charge(Component::kPeInputReg, in.layer, static_cast<double>(tr.rows), &pj);
  charge(Component::kPeOutputReg, in.layer, static_cast<double>(out_bytes), &pj);
  charge(Component::kBuffer, in.layer, static_cast<double>(accesses), &pj);
  charge(Component::kBus, in.layer, static_cast<double>(moved), &pj);
  context_->layer_times.add(in.layer, start, end, LayerWork::kUnit);
  if (observer_) emit(Unit::kCrossbar, tr.xbar, in, start, end, pj);
}

tlm::tlm_generic_payload* Core::new_payload(tlm::tlm_command cmd, uint64_t address, uint8_t* data,
                                            int64_t len) {
  tlm::tlm_generic_payload* p = pool_.allocate();
  p->acquire();  // the thread's reference
  p->set_command(cmd);
  p->set_address(address);
  p->set_data_ptr(data);
  p->set_data_length(static_cast<unsigned>(len));
  p->set_streaming_width(static_cast<unsigned>(len));
  p->set_byte_enable_ptr(nullptr);
  p->set_dmi_allowed(false);
  p->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return p;
}

void Core::transact(tlm::tlm_generic_payload* trans, uint64_t request_cycle) {
  trans->acquire();  // in flight until BEGIN_RESP
  pending_ = trans;
  pending_accepted_ = false;
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time delay = delay_until(t_, request_cycle);
  const tlm::tlm_sync_enum st = noc_socket->nb_transport_fw(*trans, phase, delay);
  if (st == tlm::TLM_COMPLETED) {
    pending_accepted_ = true;
    trans->release();
  } else if (st == tlm::TLM_UPDATED && phase == tlm::END_REQ) {
    pending_accepted_ = true;
  }
  while (!pending_accepted_) sc_core::wait(accepted_);
  wait_.kind = Wait::kNone;
  pending_ = nullptr;
  synced_ = std::max(synced_, now_cycle());
}

tlm::tlm_sync_enum Core::nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                         sc_core::sc_time& delay) {
  if (&trans == pending_ && !pending_accepted_ && (phase == tlm::END_REQ || phase == tlm::BEGIN_RESP)) {
    pending_accepted_ = true;
    accepted_.notify(delay);
  }
  if (phase == tlm::BEGIN_RESP) {
    trans.release();
    return tlm::TLM_COMPLETED;
  }
  return tlm::TLM_ACCEPTED;
}

void Core::exec_nic(const Instruction& in, uint64_t d) {
  const int64_t len = in.imm[0];
  UnitState& u = units_[kNicUnit];
  const uint64_t rw = t_.buffer_cycles(len);
  uint64_t start = 0, end = 0;
  uint64_t arrived = 0;  // recv, load: the cycle their bytes reached this core
  int64_t local = 0;
  double pj = 0;

  switch (in.op) {
    case Op::kSend: {
      local = address(in.addr[1], len);
      start = std::max({d, u.free, read_ready(local, len)});
      sync_to(start);
      start = reserve_port(start, rw, d);  // read-out into the output register
      tlm::tlm_generic_payload* p = new_payload(tlm::TLM_WRITE_COMMAND, 0, buf_ + local, len);
      NocExtension& ext = *p->get_extension<NocExtension>();
      ext.kind = NocExtension::Kind::kMessage;
      ext.src = index_;
      ext.layer = in.layer;
      ext.dst = in.imm[1];
      ext.tag = in.imm[2];
      ext.start_cycle = start + rw;
      wait_ = {Wait::kAdmission, ext.dst, ext.tag, len};
      transact(p, start + rw);
      const tlm::tlm_response_status status = p->get_response_status();
      const NocExtension done = ext;
      p->release();
      if (status == tlm::TLM_ADDRESS_ERROR_RESPONSE)
        fail("send to core " + std::to_string(done.dst) + ", which does not exist");
      if (status == tlm::TLM_BURST_ERROR_RESPONSE)
        fail("send of " + std::to_string(len) + " bytes to core " + std::to_string(done.dst) +
             ": the message is larger than the receive channel (noc.rx_channel_bytes = " +
             std::to_string(mailbox_->channel_bytes()) + ")");
      // The NIC holds the message in its output register until the network admits it.
      end = std::max(start + rw, done.accept_cycle);
      emit_wait(0, in, start + rw, done.accept_cycle);
      mark_read(local, len, start);
      charge(Component::kCoreOutputReg, in.layer, static_cast<double>(rw), &pj);
      charge(Component::kRouter, in.layer, static_cast<double>(done.flits * (done.hops + 1)), &pj);
      break;
    }
    case Op::kRecv: {
      local = address(in.addr[0], len);
      start = std::max({d, u.free, write_ready(local, len)});
      sync_to(start);
      const int src = in.imm[1], tag = in.imm[2];
      int found;
      while ((found = mailbox_->find(src, tag)) < 0) {
        wait_ = {Wait::kRecv, src, tag, len};
        sc_core::wait(mailbox_->delivered());
        synced_ = std::max(synced_, now_cycle());
      }
      wait_.kind = Wait::kNone;
      Message m = mailbox_->take(found);
      if (static_cast<int64_t>(m.bytes.size()) != len)
        fail("received a message of " + std::to_string(m.bytes.size()) + " bytes from core " +
             std::to_string(src) + " tag " + std::to_string(tag) + ", expected " + std::to_string(len));
      if (len > 0) std::memcpy(buf_ + local, m.bytes.data(), static_cast<size_t>(len));
      arrived = m.arrival_cycle;
      end = reserve_port(std::max(start, m.arrival_cycle), rw, d) + rw;
      mark_write(local, len, end);
      // The space is free once drained; the credit travels back to the sender.
      mailbox_->release(src, len,
                        end + static_cast<uint64_t>(Noc::hop_count(index_, src, t_.mesh_cols)) *
                                  static_cast<uint64_t>(t_.hop_latency));
      break;
    }
    case Op::kLoad:
    case Op::kStore: {
      const bool load = in.op == Op::kLoad;
      local = load ? address(in.addr[0], len) : address(in.addr[1], len);
      int64_t global = static_cast<int64_t>(regs_[in.addr[2].base & 15]) + in.addr[2].imm;
      start = std::max({d, u.free, load ? write_ready(local, len) : read_ready(local, len)});
      sync_to(start);
      if (!load) start = reserve_port(start, rw, d);  // read-out into the output register
      tlm::tlm_generic_payload* p = new_payload(
          load ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND,
          static_cast<uint64_t>(global < 0 ? std::numeric_limits<int64_t>::max() : global), buf_ + local, len);
      NocExtension& ext = *p->get_extension<NocExtension>();
      ext.kind = load ? NocExtension::Kind::kLoad : NocExtension::Kind::kStore;
      ext.src = index_;
      ext.layer = in.layer;
      ext.start_cycle = load ? start : start + rw;
      wait_ = {load ? Wait::kLoad : Wait::kStore, 0, 0, len};
      transact(p, ext.start_cycle);
      const tlm::tlm_response_status status = p->get_response_status();
      const NocExtension done = ext;
      p->release();
      if (status == tlm::TLM_ADDRESS_ERROR_RESPONSE || global < 0)
        fail(std::string(load ? "load from" : "store to") + " global memory [" + std::to_string(global) +
             ", " + std::to_string(global + len) + ") is outside its capacity");
      if (status != tlm::TLM_OK_RESPONSE) fail("global memory rejected the access");
      if (load) {
        emit_wait(1, in, start, done.accept_cycle);
        arrived = done.done_cycle;
        end = reserve_port(done.done_cycle, rw, d) + rw;
        mark_write(local, len, end);
      } else {
        end = start + rw;
        mark_read(local, len, start);
        charge(Component::kCoreOutputReg, in.layer, static_cast<double>(rw), &pj);
      }
      charge(Component::kMemory, in.layer, static_cast<double>(len), &pj);
      charge(Component::kRouter, in.layer, static_cast<double>(done.flits * (done.hops + 1)), &pj);
      break;
    }
    default:
      break;
  }
  retire(kNicUnit, start, end);
  charge(Component::kBuffer, in.layer, static_cast<double>(rw), &pj);
  charge(Component::kBus, in.layer, static_cast<double>(len), &pj);
  // recv and load wait for their bytes (until `arrived`); their work is the write-in, the
  // last rw cycles.
  if (in.op == Op::kRecv || in.op == Op::kLoad)
    context_->layer_times.add_input(in.layer, arrived, end - rw, end);
  else
    context_->layer_times.add(in.layer, start, end, LayerWork::kUnit);
  if (observer_) emit(Unit::kNic, 0, in, start, end, pj);
}

// wload: the weights travel from global memory like a load (NIC and memory port reserved),
// then the crossbar is programmed row by row (docs/timing.md). The crossbar unit is busy
// from start to the end of programming; the NIC until the bytes have arrived.
void Core::exec_wload(const Instruction& in, uint64_t d) {
  const int tile = in.imm[0];
  TileRuntime& tr = tiles_[static_cast<size_t>(tile)];
  const int64_t len = static_cast<int64_t>(tr.rows) * tr.cols;
  UnitState& xu = units_[static_cast<size_t>(tr.unit)];
  UnitState& nic = units_[kNicUnit];
  const uint64_t start = std::max({d, xu.free, nic.free});
  sync_to(start);
  wload_bytes_.resize(static_cast<size_t>(len));
  tlm::tlm_generic_payload* p = new_payload(tlm::TLM_READ_COMMAND,
                                            static_cast<uint64_t>(tr.weight_global_addr),
                                            wload_bytes_.data(), len);
  NocExtension& pext = *p->get_extension<NocExtension>();
  pext.kind = NocExtension::Kind::kLoad;
  pext.src = index_;
  pext.layer = in.layer;
  pext.start_cycle = start;
  wait_ = {Wait::kWload, tile, 0, len};
  transact(p, start);
  const tlm::tlm_response_status status = p->get_response_status();
  const NocExtension ext = pext;
  p->release();
  if (status != tlm::TLM_OK_RESPONSE)
    fail("wload from global memory [" + std::to_string(tr.weight_global_addr) + ", " +
         std::to_string(tr.weight_global_addr + len) + ") is outside its capacity");
  // Values: the bytes read are what gets programmed. Normally they are the tile's own codes
  // (the chip wrote them at load) and the tile built at construction is reused as is.
  const uint64_t read_hash = hash_bytes(wload_bytes_.data(), wload_bytes_.size());
  if (read_hash != tr.weights_hash) {
    TileDesc td;
    td.rows = tr.rows;
    td.cols = tr.cols;
    td.input_unsigned = tr.input_unsigned;
    td.layer = tr.layer;
    td.adc_full_scale = tr.adc_full_scale;
    td.adc_offset_lsb = tr.adc_offset_lsb;
    td.weights.assign(reinterpret_cast<const int8_t*>(wload_bytes_.data()),
                      reinterpret_cast<const int8_t*>(wload_bytes_.data()) + len);
    tr.tile = std::make_unique<ProgrammedTile>(*arch_, td, tr.seed_stream);
    tr.weights_hash = read_hash;
  }
  xbar_holds_[static_cast<size_t>(tr.xbar)] = tile;
  emit_wait(1, in, start, ext.accept_cycle);
  const uint64_t arrived = ext.done_cycle;
  const uint64_t end = arrived + t_.ns_to_cycles(write_ns_per_row_ * tr.rows);
  nic.free = std::max(nic.free, arrived);
  add_busy(start, arrived);
  retire(tr.unit, start, end);
  xbar_busy_[static_cast<size_t>(tr.xbar)] += end - start;
  double pj = 0;
  charge(Component::kMemory, in.layer, static_cast<double>(len), &pj);
  charge(Component::kRouter, in.layer, static_cast<double>(ext.flits * (ext.hops + 1)), &pj);
  charge(Component::kCrossbarWrite, in.layer,
         static_cast<double>(len) * static_cast<double>(t_.cells_per_weight), &pj);
  context_->layer_times.add(in.layer, start, end, LayerWork::kUnit);
  if (observer_) emit(Unit::kCrossbar, tr.xbar, in, start, end, pj);
}

}  // namespace cimsim
