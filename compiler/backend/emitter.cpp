// Instruction emitter (field layout mirrors operand_layout() in platform/spec/isa.cpp).
#include "compiler/backend/emitter.h"

#include <algorithm>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim::backend {
namespace {

int32_t i32(int64_t v, const char* what) {
  if (v < INT32_MIN || v > INT32_MAX) {
    throw InputError(fmt::format("backend: {} {} does not fit a 32-bit operand", what, v));
  }
  return static_cast<int32_t>(v);
}

}  // namespace

Addr Emitter::at(int base, int64_t imm) {
  Addr a;
  a.base = static_cast<uint8_t>(base);
  a.imm = i32(imm, "address");
  return a;
}

Instruction& Emitter::emit(Op op) {
  code_->emplace_back();
  Instruction& in = code_->back();
  in.op = op;
  in.layer = layer_;
  return in;
}

void Emitter::li(int rd, int64_t v) {
  Instruction& in = emit(Op::kLi);
  in.rd = static_cast<uint8_t>(rd);
  in.imm[0] = i32(v, "immediate");
}

void Emitter::addi(int rd, int rs, int64_t v) {
  Instruction& in = emit(Op::kAddi);
  in.rd = static_cast<uint8_t>(rd);
  in.rs = static_cast<uint8_t>(rs);
  in.imm[0] = i32(v, "immediate");
}

void Emitter::add(int rd, int rs, int rt) {
  Instruction& in = emit(Op::kAdd);
  in.rd = static_cast<uint8_t>(rd);
  in.rs = static_cast<uint8_t>(rs);
  in.rt = static_cast<uint8_t>(rt);
}

void Emitter::blt(int rs, int rt, size_t target) {
  Instruction& in = emit(Op::kBlt);
  in.rs = static_cast<uint8_t>(rs);
  in.rt = static_cast<uint8_t>(rt);
  in.imm[0] = i32(static_cast<int64_t>(target), "branch target");
}

size_t Emitter::jmp(size_t target) {
  Instruction& in = emit(Op::kJmp);
  in.imm[0] = i32(static_cast<int64_t>(target), "branch target");
  return code_->size() - 1;
}

void Emitter::patch_target(size_t at_pc, size_t target) {
  (*code_)[at_pc].imm[0] = i32(static_cast<int64_t>(target), "branch target");
}

void Emitter::halt() { emit(Op::kHalt); }

void Emitter::copy(Addr d, Addr s, int64_t seg, int64_t n_in, int64_t s_in, int64_t d_in,
                   int64_t n_out, int64_t s_out, int64_t d_out) {
  Instruction& in = emit(Op::kCopy);
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm[0] = i32(seg, "length");
  in.imm[1] = i32(n_in, "count");
  in.imm[2] = i32(s_in, "stride");
  in.imm[3] = i32(d_in, "stride");
  in.imm[4] = i32(n_out, "count");
  in.imm[5] = i32(s_out, "stride");
  in.imm[6] = i32(d_out, "stride");
}

void Emitter::fill(Addr d, int64_t len, int value) {
  Instruction& in = emit(Op::kFill);
  in.addr[0] = d;
  in.imm[0] = i32(len, "length");
  in.imm[1] = value;
}

void Emitter::requant(Addr d, Addr s, int64_t len, int qid) {
  Instruction& in = emit(Op::kRequant);
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm[0] = i32(len, "length");
  in.imm[1] = qid;
}

void Emitter::addq(Addr d, Addr a, Addr b, int64_t len, int qid) {
  Instruction& in = emit(Op::kAddq);
  in.addr[0] = d;
  in.addr[1] = a;
  in.addr[2] = b;
  in.imm[0] = i32(len, "length");
  in.imm[1] = qid;
}

void Emitter::add32(Addr d, Addr a, Addr b, int64_t len) {
  Instruction& in = emit(Op::kAdd32);
  in.addr[0] = d;
  in.addr[1] = a;
  in.addr[2] = b;
  in.imm[0] = i32(len, "length");
}

void Emitter::max(Addr d, Addr a, Addr b, int64_t len, bool is_unsigned) {
  Instruction& in = emit(Op::kMax);
  in.addr[0] = d;
  in.addr[1] = a;
  in.addr[2] = b;
  in.imm[0] = i32(len, "length");
  in.imm[1] = is_unsigned ? 1 : 0;
}

void Emitter::sum32(Addr d, Addr s, int64_t len, bool is_unsigned) {
  Instruction& in = emit(Op::kSum32);
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm[0] = i32(len, "length");
  in.imm[1] = is_unsigned ? 1 : 0;
}

void Emitter::lut(Addr d, Addr s, int64_t len, int lid) {
  Instruction& in = emit(Op::kLut);
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm[0] = i32(len, "length");
  in.imm[1] = lid;
}

void Emitter::wload(int tile) {
  Instruction& in = emit(Op::kWload);
  in.imm[0] = tile;
}

void Emitter::mvm(int tile, Addr d, Addr s, bool acc) {
  Instruction& in = emit(Op::kMvm);
  in.imm[0] = tile;
  in.addr[0] = d;
  in.addr[1] = s;
  in.imm[1] = acc ? 1 : 0;
}

void Emitter::send(Addr s, int64_t len, int core, int64_t tag) { message(Op::kSend, s, len, core, tag); }

void Emitter::recv(Addr d, int64_t len, int core, int64_t tag) { message(Op::kRecv, d, len, core, tag); }

void Emitter::message(Op op, Addr a, int64_t len, int core, int64_t tag) {
  int64_t off = 0;
  do {
    const int64_t n = message_limit_ > 0 ? std::min(len - off, message_limit_) : len;
    Instruction& in = emit(op);
    in.addr[op == Op::kSend ? 1 : 0] = at(a.base, a.imm + off);
    in.imm[0] = i32(n, "length");
    in.imm[1] = core;
    in.imm[2] = i32(tag, "tag");
    off += n;
  } while (off < len);
}

void Emitter::load(Addr d, Addr g, int64_t len) {
  Instruction& in = emit(Op::kLoad);
  in.addr[0] = d;
  in.addr[2] = g;
  in.imm[0] = i32(len, "length");
}

void Emitter::store(Addr g, Addr s, int64_t len) {
  Instruction& in = emit(Op::kStore);
  in.addr[2] = g;
  in.addr[1] = s;
  in.imm[0] = i32(len, "length");
}

}  // namespace cimsim::backend
