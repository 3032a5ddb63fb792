#include "models/sc/inst_text.h"

namespace cimsim {

std::string instruction_text(const Instruction& in) {
  std::string s = op_name(in.op);
  bool first = true;
  for (const OperandSpec& o : operand_layout(in.op)) {
    s += first ? " " : ", ";
    first = false;
    switch (o.kind) {
      case OperandKind::kReg: {
        int r = o.slot == 0 ? in.rd : o.slot == 1 ? in.rs : in.rt;
        s += "r" + std::to_string(r);
        break;
      }
      case OperandKind::kAddr: {
        const Addr& a = in.addr[o.slot];
        s += "[r" + std::to_string(a.base) + (a.imm < 0 ? "" : "+") + std::to_string(a.imm) + "]";
        break;
      }
      case OperandKind::kImm:
        if (o.name) s += std::string(o.name) + "=";
        s += std::to_string(in.imm[o.slot]);
        break;
      case OperandKind::kTarget:
        s += "@" + std::to_string(in.imm[o.slot]);
        break;
      case OperandKind::kTile:
        s += "t" + std::to_string(in.imm[o.slot]);
        break;
    }
  }
  return s;
}

}  // namespace cimsim
