// Instruction emitter: builds one core's stream with the operand fields isa.cpp expects.
//
// Contract: every helper fills exactly the fields operand_layout() lists for its op (others
// stay zero, so validate() and the text/binary round trips hold); immediates that do not fit
// int32 throw InputError (a model too large for the ISA's 32-bit operands). With a message
// limit set, send/recv of more bytes become several messages of at most that many bytes,
// same peer and tag, in address order (the receiver takes them in the order they were sent,
// so both sides split alike): a message must fit the receiver's channel
// (noc.rx_channel_bytes, docs/timing.md "Back-pressure").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/isa.h"

namespace cimsim::backend {

class Emitter {
 public:
  explicit Emitter(std::vector<Instruction>* code) : code_(code) {}
  void set_layer(int layer) { layer_ = static_cast<uint16_t>(layer); }
  void set_message_limit(int64_t bytes) { message_limit_ = bytes; }  // <= 0: none
  size_t pc() const { return code_->size(); }

  static Addr at(int base, int64_t imm);

  void li(int rd, int64_t v);
  void addi(int rd, int rs, int64_t v);
  void add(int rd, int rs, int rt);
  void blt(int rs, int rt, size_t target);
  size_t jmp(size_t target);  // returns its index so that forward jumps can be patched
  void patch_target(size_t at_pc, size_t target);
  void halt();
  // 2-level strided copy: for o < n_out, i < n_in: seg bytes S + o*s_out + i*s_in ->
  // D + o*d_out + i*d_in.
  void copy(Addr d, Addr s, int64_t seg, int64_t n_in, int64_t s_in, int64_t d_in, int64_t n_out,
            int64_t s_out, int64_t d_out);
  void fill(Addr d, int64_t len, int value);
  void requant(Addr d, Addr s, int64_t len, int qid);
  void addq(Addr d, Addr a, Addr b, int64_t len, int qid);
  void add32(Addr d, Addr a, Addr b, int64_t len);
  void max(Addr d, Addr a, Addr b, int64_t len, bool is_unsigned);
  void sum32(Addr d, Addr s, int64_t len, bool is_unsigned);
  void lut(Addr d, Addr s, int64_t len, int lid);
  void mvm(int tile, Addr d, Addr s, bool acc);
  void wload(int tile);
  void send(Addr s, int64_t len, int core, int64_t tag);
  void recv(Addr d, int64_t len, int core, int64_t tag);
  void load(Addr d, Addr g, int64_t len);
  void store(Addr g, Addr s, int64_t len);

 private:
  Instruction& emit(Op op);
  void message(Op op, Addr a, int64_t len, int core, int64_t tag);
  std::vector<Instruction>* code_;
  uint16_t layer_ = 0;
  int64_t message_limit_ = 0;
};

}  // namespace cimsim::backend
