// The Verilated shift-and-add RTL behind the ShiftAddUnit interface (docs/cosim.md).
//
// The RTL (CIMSIM_RTL_SHIFT_ADD_SOURCES, default cimsim_shift_add.sv) is Verilated with --sc
// into the SystemC module Vshift_add, bound here to signals this wrapper owns, including its
// clock. The chip has no clock: the wrapper toggles `clk_` only while run() has samples or
// results outstanding, and each toggle costs delta cycles of the calling core's thread, not
// simulated time. Per clock cycle, three deltas:
//   1. the cycle's inputs are written (clk is low); one delta lets the model evaluate them,
//      a second makes its combinational outputs (in_ready, out_valid, ...) visible;
//   2. the cycle's handshakes are decided from those settled signals;
//   3. clk rises; in the next delta the model evaluates the edge, seeing this cycle's
//      inputs (signal writes made in a delta only take effect after it), while the wrapper
//      already writes clk low and the next cycle's inputs, which the model evaluates with
//      its new register values in the delta after.
#include <algorithm>
#include <memory>
#include <string>

#include "Vshift_add.h"
#include "models/sc/shift_add_unit.h"
#include "models/sc/sim_error.h"

namespace cimsim {
namespace {

class RtlShiftAdd : public sc_core::sc_module, public ShiftAddUnit {
 public:
  explicit RtlShiftAdd(sc_core::sc_module_name name)
      : sc_core::sc_module(name),
        clk_("clk"), rst_n_("rst_n"), in_valid_("in_valid"), in_ready_("in_ready"),
        in_code_("in_code"), in_shift_("in_shift"), in_negate_("in_negate"),
        in_first_("in_first"), in_last_("in_last"), in_bias_("in_bias"),
        out_valid_("out_valid"), out_ready_("out_ready"), out_value_("out_value"),
        dut_("rtl") {
    dut_.clk(clk_);
    dut_.rst_n(rst_n_);
    dut_.in_valid(in_valid_);
    dut_.in_ready(in_ready_);
    dut_.in_code(in_code_);
    dut_.in_shift(in_shift_);
    dut_.in_negate(in_negate_);
    dut_.in_first(in_first_);
    dut_.in_last(in_last_);
    dut_.in_bias(in_bias_);
    dut_.out_valid(out_valid_);
    dut_.out_ready(out_ready_);
    dut_.out_value(out_value_);
  }

  uint64_t run(const kernels::ShiftAddJob& job, int32_t* out) override {
    if (!reset_done_) reset();
    const size_t n = job.samples.size();
    const size_t per_col = static_cast<size_t>(std::max(1, job.samples_per_column));
    // A unit that keeps pace needs n + (its latency) cycles; this bounds a hung design.
    const uint64_t limit = 4 * static_cast<uint64_t>(n) + 1000;
    size_t next = 0;
    int taken = 0;
    uint64_t cycles = 0;
    out_ready_.write(true);
    while (taken < job.cols) {
      if (++cycles > limit)
        throw SimError("rtl shift-add: " + std::to_string(taken) + " of " + std::to_string(job.cols) +
                       " results after " + std::to_string(limit) + " cycles (" + std::to_string(next) +
                       " of " + std::to_string(n) + " samples accepted): the RTL does not follow "
                       "the handshake of docs/cosim.md");
      const bool offer = next < n;
      if (offer) {
        const kernels::ShiftAddSample& s = job.samples[next];
        in_code_.write(s.code);
        in_shift_.write(s.shift);
        in_negate_.write(s.negate);
        in_first_.write(s.first);
        in_last_.write(s.last);
        in_bias_.write(static_cast<uint64_t>(job.bias[next / per_col]));
      }
      in_valid_.write(offer);
      settle();
      const bool accepted = offer && in_ready_.read();
      if (out_valid_.read()) out[taken++] = static_cast<int32_t>(out_value_.read());
      rising_edge();
      if (accepted) ++next;
    }
    in_valid_.write(false);
    if (next < n)
      throw SimError("rtl shift-add: all " + std::to_string(job.cols) + " results came after only " +
                     std::to_string(next) + " of " + std::to_string(n) +
                     " samples: the RTL does not follow the handshake of docs/cosim.md");
    cycles_ += cycles;
    return cycles - static_cast<uint64_t>(n);
  }

  uint64_t cycles_simulated() const override { return cycles_; }

 private:
  void settle() {
    sc_core::wait(sc_core::SC_ZERO_TIME);
    sc_core::wait(sc_core::SC_ZERO_TIME);
  }
  void rising_edge() {
    clk_.write(true);
    sc_core::wait(sc_core::SC_ZERO_TIME);  // the model evaluates the edge in this delta
    clk_.write(false);
  }
  // Two cycles of synchronous reset at the first use (signals cannot be driven while the
  // chip is being elaborated).
  void reset() {
    rst_n_.write(false);
    in_valid_.write(false);
    out_ready_.write(false);
    for (int i = 0; i < 2; ++i) {
      settle();
      rising_edge();
    }
    rst_n_.write(true);
    cycles_ += 2;
    reset_done_ = true;
  }

  sc_core::sc_signal<bool> clk_, rst_n_, in_valid_, in_ready_;
  sc_core::sc_signal<uint32_t> in_code_, in_shift_;
  sc_core::sc_signal<bool> in_negate_, in_first_, in_last_;
  sc_core::sc_signal<uint64_t> in_bias_;
  sc_core::sc_signal<bool> out_valid_, out_ready_;
  sc_core::sc_signal<uint32_t> out_value_;
  Vshift_add dut_;
  bool reset_done_ = false;
  uint64_t cycles_ = 0;
};

}  // namespace

bool rtl_available() { return true; }

std::unique_ptr<ShiftAddUnit> make_rtl_shift_add(const char* name, const std::string&) {
  return std::make_unique<RtlShiftAdd>(name);
}

}  // namespace cimsim
