// The RTL factory of a cimsim built without Verilator (CIMSIM_RTL off): every request for an
// RTL model is a clear input error, since the arch file asked for something this build lacks.
#include "models/sc/shift_add_unit.h"
#include "platform/spec/arch.h"

namespace cimsim {

bool rtl_available() { return false; }

std::unique_ptr<ShiftAddUnit> make_rtl_shift_add(const char*, const std::string& key) {
  throw InputError(key + ": rtl: this cimsim was built without Verilator; install verilator "
                   "(scripts/setup) and rebuild, or use tlm (docs/cosim.md)");
}

}  // namespace cimsim
