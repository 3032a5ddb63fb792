#include "models/sc/chip.h"

#include <algorithm>

#include "models/sc/inst_text.h"

namespace cimsim {

Chip::Chip(sc_core::sc_module_name name, const ArchSpec& arch, const Program& program, uint64_t seed,
           Observer* observer)
    : sc_core::sc_module(name), arch_(arch), timing_(arch_), costs_(arch_), observer_(observer) {
  const int cores = arch_.chip.cores;
  if (static_cast<int>(program.cores.size()) > cores)
    throw InputError("program: " + std::to_string(program.cores.size()) +
                     " core streams, but the arch has " + std::to_string(cores) + " cores");
  if (arch_.chip.mesh_rows * arch_.chip.mesh_cols < cores)
    throw InputError(arch_.source_path + ": chip: a " + std::to_string(arch_.chip.mesh_rows) + "x" +
                     std::to_string(arch_.chip.mesh_cols) + " mesh cannot hold " +
                     std::to_string(cores) + " cores");
  if (arch_.memory.attach_core < 0 ||
      arch_.memory.attach_core >= arch_.chip.mesh_rows * arch_.chip.mesh_cols)
    throw InputError(arch_.source_path + ": memory.attach_core is outside the mesh");
  // A runtime error stops the run with sc_stop(); the error itself is the message.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  context_.on_core_halted = [this]() {
    if (observer_ && finished()) observer_->on_finish(stats().end_ps);
  };
  context_.ledger.resize(std::max<size_t>(1, program.layers.size()));
  context_.layer_times.resize(std::max<size_t>(1, program.layers.size()));

  std::vector<Mailbox*> boxes;
  for (int c = 0; c < cores; ++c) {
    mailboxes_.push_back(std::make_unique<Mailbox>(arch_.noc.rx_channel_bytes));
    boxes.push_back(mailboxes_.back().get());
  }
  noc_ = std::make_unique<Noc>("noc", timing_, boxes, observer_);
  memory_ = std::make_unique<GlobalMemory>("memory", arch_.memory.capacity_bytes, timing_, observer_);
  noc_->memory_socket.bind(memory_->socket);
  static const CoreProgram kEmpty;
  for (int c = 0; c < cores; ++c) {
    const CoreProgram& cp = static_cast<size_t>(c) < program.cores.size()
                                ? program.cores[static_cast<size_t>(c)]
                                : kEmpty;
    std::string cname = "core_" + std::to_string(c);
    buffers_.push_back(std::make_unique<LocalBuffer>((cname + "_buffer").c_str(), arch_.core.buffer_bytes));
    cores_.push_back(std::make_unique<Core>(cname.c_str(), c, arch_, timing_, costs_, cp, seed,
                                            observer_, &context_, mailboxes_[static_cast<size_t>(c)].get()));
    cores_.back()->buffer_socket.bind(buffers_.back()->socket);
    cores_.back()->noc_socket.bind(noc_->target);
  }
  // Reloadable tiles' weights are stored in DRAM (global memory) before the run; wload reads
  // them from there (docs/isa.md).
  for (size_t c = 0; c < program.cores.size(); ++c) {
    const auto& tiles = program.cores[c].tiles;
    for (size_t t = 0; t < tiles.size(); ++t) {
      const TileDesc& td = tiles[t];
      if (td.weight_global_addr < 0) continue;
      const uint64_t a = static_cast<uint64_t>(td.weight_global_addr);
      if (td.weight_global_addr > memory_->capacity() ||
          static_cast<int64_t>(td.weights.size()) > memory_->capacity() - td.weight_global_addr)
        throw InputError("program: core " + std::to_string(c) + ", tile " + std::to_string(t) +
                         ": reloadable weights [" + std::to_string(a) + ", " +
                         std::to_string(a + td.weights.size()) +
                         ") are outside global memory (" + std::to_string(memory_->capacity()) +
                         " bytes)");
      memory_->write(a, reinterpret_cast<const uint8_t*>(td.weights.data()), td.weights.size());
      if (!td.weights.empty())
        reload_ranges_.emplace_back(td.weight_global_addr,
                                    td.weight_global_addr + static_cast<int64_t>(td.weights.size()));
    }
  }
  std::sort(reload_ranges_.begin(), reload_ranges_.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& r : reload_ranges_) {
    if (!merged.empty() && r.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  reload_ranges_.swap(merged);
  io_ = program.inputs;
  io_.insert(io_.end(), program.outputs.begin(), program.outputs.end());
}

Chip::~Chip() = default;

void Chip::set_batch(int n) {
  for (const TensorIO& io : io_) {
    const int64_t a = io.global_addr, b = io.global_addr + int64_t{n} * io.bytes_per_image;
    for (const auto& r : reload_ranges_) {
      if (a < r.second && r.first < b)
        throw InputError("program: " + std::to_string(n) + " images of '" + io.name + "' at [" +
                         std::to_string(a) + ", " + std::to_string(b) +
                         ") overlap the reloadable weights stored at [" + std::to_string(r.first) +
                         ", " + std::to_string(r.second) + ") (batch too large for global memory)");
    }
  }
  context_.batch = n;
}

bool Chip::finished() const {
  if (!context_.error.empty()) return false;
  for (const auto& c : cores_)
    if (!c->halted()) return false;
  for (const auto& m : mailboxes_)
    if (!m->empty()) return false;
  return true;
}

std::vector<BlockedCore> Chip::blocked() const {
  std::vector<BlockedCore> out;
  for (size_t i = 0; i < cores_.size(); ++i) {
    const Core& c = *cores_[i];
    if (c.halted()) continue;
    BlockedCore b;
    b.core = static_cast<int>(i);
    b.pc = c.pc();
    const Instruction* in = c.current_instruction();
    b.instruction = in ? instruction_text(*in) : "end of stream";
    if (!c.waiting_for().empty()) {
      b.waiting_for = c.waiting_for();
      const std::string credits = noc_->credit_wait(b.core);
      if (!credits.empty()) b.waiting_for += ": " + credits;
    } else if (!context_.error.empty()) {
      b.waiting_for = "stopped by an error";
    } else {
      b.waiting_for = "running (simulation time limit)";
    }
    out.push_back(std::move(b));
  }
  return out;
}

const std::string& Chip::error() const { return context_.error; }

ChipStats Chip::stats() const {
  ChipStats s;
  uint64_t end = noc_->last_done_cycle();
  for (const auto& cp : cores_) {
    const Core& c = *cp;
    s.instructions_executed += c.instructions();
    s.core_instructions.push_back(c.instructions());
    s.core_busy_ps.push_back(timing_.to_ps(c.busy_cycles()));
    s.core_finish_ps.push_back(c.halted() ? timing_.to_ps(c.finish_cycle()) : 0);
    std::vector<uint64_t> xb;
    for (uint64_t v : c.crossbar_busy_cycles()) xb.push_back(timing_.to_ps(v));
    s.crossbar_busy_ps.push_back(std::move(xb));
    if (c.halted()) end = std::max(end, c.finish_cycle());
    s.rtl_cycles += c.rtl_cycles();
  }
  s.end_ps = timing_.to_ps(end);
  s.energy = context_.ledger;
  for (size_t l = 0; l < context_.layer_times.layers(); ++l) {
    const LayerCycles& c = context_.layer_times.get(l);
    LayerTime t;
    t.instructions = c.instructions;
    t.unit_instructions = c.unit_instructions;
    t.busy_ps = timing_.to_ps(c.busy_cycles);
    if (c.unit_instructions > 0) {
      t.start_ps = timing_.to_ps(c.start_cycle());
      t.end_ps = timing_.to_ps(c.last_end_cycle);
    }
    s.layer_times.push_back(t);
  }
  s.mvms = context_.mvms;
  s.macs = context_.macs;
  s.adc_conversions = context_.adc_conversions;
  s.adc_saturations = context_.adc_saturations;
  s.flit_hops = noc_->flit_hops();
  s.credit_stall_ps = timing_.to_ps(noc_->credit_stall_cycles());
  s.memory_queue_stall_ps = timing_.to_ps(noc_->memory_wait_cycles());
  for (const auto& m : mailboxes_)
    s.rx_peak_channel_bytes = std::max<uint64_t>(s.rx_peak_channel_bytes, static_cast<uint64_t>(m->peak_channel_bytes()));
  s.memory_bytes = memory_->bytes_moved();
  return s;
}

void reset_systemc_context() {
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
}

}  // namespace cimsim
