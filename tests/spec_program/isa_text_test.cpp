// Assembly text: every opcode parsed into hand-written structs, round trips through
// the binary, syntax errors with exact positions, and validate().
#include <gtest/gtest.h>

#include <random>

#include "platform/spec/arch.h"
#include "platform/spec/program_asm.h"
#include "platform/spec/program_io.h"
#include "tests/spec_program/random_program.h"

namespace cimsim {
namespace {

Instruction make(Op op) {
  Instruction in;
  in.op = op;
  return in;
}

// A core with one tile, two requant sets and one LUT so every index operand is valid.
const char* kTables =
    ".tile 0 pe=1 xbar=2 rows=2 cols=3 unsigned=1 layer=0 fullscale=0.5 offset=-0.3125\n"
    ".requant 0 kind=per_channel qmin=0 qmax=255 channels=2 bias=[10,-20] "
    "mult=[1073741824,2147483647] shift=[31,0]\n"
    ".requant 1 kind=add qmin=-128 qmax=127 mult_a=1234 mult_b=-5 shift=20 a_unsigned=0 "
    "b_unsigned=1\n"
    ".lut 0 unsigned=0 table=[0,1,2,3]\n";

struct OpCase {
  const char* text;  // one instruction line as the disassembler prints it
  Instruction expected;
};

std::vector<OpCase> op_cases() {
  std::vector<OpCase> v;
  Instruction in;
  in = make(Op::kLi); in.rd = 3; in.imm[0] = -7;
  v.push_back({"  li r3, -7", in});
  in = make(Op::kAddi); in.rd = 1; in.rs = 15; in.imm[0] = 2147483647;
  v.push_back({"  addi r1, r15, 2147483647", in});
  in = make(Op::kAdd); in.rd = 4; in.rs = 5; in.rt = 6;
  v.push_back({"  add r4, r5, r6", in});
  in = make(Op::kBne); in.rs = 1; in.rt = 2; in.imm[0] = 0;
  v.push_back({"  bne r1, r2, L0", in});
  in = make(Op::kBlt); in.rs = 0; in.rt = 14; in.imm[0] = 0;
  v.push_back({"  blt r0, r14, L0", in});
  in = make(Op::kJmp); in.imm[0] = 0;
  v.push_back({"  jmp L0", in});
  in = make(Op::kHalt);
  v.push_back({"  halt", in});
  in = make(Op::kCopy);
  in.addr[0] = {2, 0}; in.addr[1] = {1, -16};
  in.imm = {48, 3, 96, 48, 1, 0, 0, 0};
  v.push_back({"  copy [r2+0], [r1-16], seg=48, n_in=3, s_in=96, d_in=48, n_out=1, s_out=0, d_out=0", in});
  in = make(Op::kFill); in.addr[0] = {7, 100}; in.imm[0] = 64; in.imm[1] = -128;
  v.push_back({"  fill [r7+100], len=64, value=-128", in});
  in = make(Op::kRequant); in.addr[0] = {1, 0}; in.addr[1] = {2, 4}; in.imm[0] = 32; in.imm[1] = 0;
  v.push_back({"  requant [r1+0], [r2+4], len=32, qid=0", in});
  in = make(Op::kAddq); in.addr = {Addr{1, 1}, Addr{2, 2}, Addr{3, 3}}; in.imm[0] = 9; in.imm[1] = 1;
  v.push_back({"  addq [r1+1], [r2+2], [r3+3], len=9, qid=1", in});
  in = make(Op::kAdd32); in.addr = {Addr{4, -2147483647 - 1}, Addr{4, 0}, Addr{5, 8}}; in.imm[0] = 16;
  v.push_back({"  add32 [r4-2147483648], [r4+0], [r5+8], len=16", in});
  in = make(Op::kMax); in.addr = {Addr{1, 0}, Addr{2, 0}, Addr{3, 0}}; in.imm[0] = 5; in.imm[1] = 1;
  v.push_back({"  max [r1+0], [r2+0], [r3+0], len=5, unsigned=1", in});
  in = make(Op::kSum32); in.addr[0] = {1, 0}; in.addr[1] = {2, 0}; in.imm[0] = 49; in.imm[1] = 0;
  v.push_back({"  sum32 [r1+0], [r2+0], len=49, unsigned=0", in});
  in = make(Op::kLut); in.addr[0] = {1, 0}; in.addr[1] = {1, 0}; in.imm[0] = 10; in.imm[1] = 0;
  v.push_back({"  lut [r1+0], [r1+0], len=10, lid=0", in});
  in = make(Op::kMvm); in.imm[0] = 0; in.addr[0] = {1, 128}; in.addr[1] = {2, 0}; in.imm[1] = 1;
  v.push_back({"  mvm t0, [r1+128], [r2+0], acc=1", in});
  in = make(Op::kSend); in.addr[1] = {3, 0}; in.imm[0] = 256; in.imm[1] = 1; in.imm[2] = 7;
  v.push_back({"  send [r3+0], len=256, core=1, tag=7", in});
  in = make(Op::kRecv); in.addr[0] = {3, 0}; in.imm[0] = 256; in.imm[1] = 0; in.imm[2] = 7;
  v.push_back({"  recv [r3+0], len=256, core=0, tag=7", in});
  in = make(Op::kLoad); in.addr[0] = {1, 0}; in.addr[2] = {9, 4096}; in.imm[0] = 192;
  v.push_back({"  load [r1+0], [r9+4096], len=192", in});
  in = make(Op::kStore); in.addr[2] = {9, 8192}; in.addr[1] = {1, 64}; in.imm[0] = 10;
  v.push_back({"  store [r9+8192], [r1+64], len=10", in});
  return v;
}

std::string header(size_t n_code) {
  return "# core 0: " + std::to_string(n_code) +
         " instructions, 1 tiles, 2 requant sets, 1 LUTs\n";
}

TEST(Assembly, EveryOpcodeRoundTripsTextStructBinaryStructText) {
  for (const OpCase& c : op_cases()) {
    SCOPED_TRACE(c.text);
    bool branches = c.expected.op == Op::kBne || c.expected.op == Op::kBlt || c.expected.op == Op::kJmp;
    std::string text = header(1) + kTables + (branches ? "L0:\n" : "") + c.text + "\n";
    CoreProgram core = assemble_core(text, "t.s");
    ASSERT_EQ(core.code.size(), 1u);
    EXPECT_EQ(core.code[0], c.expected) << op_name(core.code[0].op);
    // Independently written tables.
    ASSERT_EQ(core.tiles.size(), 1u);
    EXPECT_EQ(core.tiles[0].pe, 1);
    EXPECT_EQ(core.tiles[0].crossbar, 2);
    EXPECT_EQ(core.tiles[0].adc_full_scale, 0.5f);
    EXPECT_EQ(core.tiles[0].adc_offset_lsb, -0.3125f);
    ASSERT_EQ(core.requant.size(), 2u);
    EXPECT_EQ(core.requant[0].bias, (std::vector<int32_t>{10, -20}));
    EXPECT_EQ(core.requant[0].multiplier, (std::vector<int32_t>{1073741824, 2147483647}));
    EXPECT_EQ(core.requant[1].kind, RequantDesc::Kind::kAdd);
    EXPECT_EQ(core.requant[1].mult_b, -5);
    EXPECT_EQ(core.requant[1].add_shift, 20);
    EXPECT_FALSE(core.requant[1].a_unsigned);
    EXPECT_TRUE(core.requant[1].b_unsigned);
    EXPECT_EQ(core.luts[0].table, (std::vector<int32_t>{0, 1, 2, 3}));
    core.tiles[0].weights = {1, -2, 3, -4, 5, -127};
    validate(core, 0, 2, "t.s");

    Program p;
    p.cores = {core, CoreProgram{}};
    std::vector<uint8_t> w;
    std::vector<uint8_t> bin = encode_program(p, &w);
    Program back = decode_program(bin, w, "dir");
    ASSERT_EQ(back, p);
    CoreProgram stripped = back.cores[0];
    stripped.tiles[0].weights.clear();
    EXPECT_EQ(disassemble_core(stripped, 0, {}), text);
  }
}

TEST(Assembly, BinaryInstructionIsCompact) {
  // opcode byte + layer varint + only the fields the op uses (zigzag varints).
  Program p;
  p.cores.resize(1);
  Instruction in = make(Op::kLi);
  in.rd = 3;
  in.imm[0] = -7;  // zigzag 13: one byte
  p.cores[0].code = {in};
  std::vector<uint8_t> bin1 = encode_program(p, nullptr);
  p.cores[0].code = {in, in};
  std::vector<uint8_t> bin2 = encode_program(p, nullptr);
  EXPECT_EQ(bin2.size() - bin1.size(), 4u);  // op, layer, rd, imm
}

TEST(Assembly, LayerDirectiveAndLayerNameComments) {
  const std::string text =
      "# core 2: 3 instructions, 0 tiles, 0 requant sets, 0 LUTs\n"
      "L0:\n"
      "  halt\n"
      ".layer 1  # conv1\n"
      "  jmp L0\n"
      ".layer 0  # input\n"
      "L2:\n"
      "  bne r1, r2, L2\n";
  CoreProgram c = assemble_core(text, "x.s");
  ASSERT_EQ(c.code.size(), 3u);
  EXPECT_EQ(c.code[0].layer, 0);
  EXPECT_EQ(c.code[1].layer, 1);
  EXPECT_EQ(c.code[1].imm[0], 0);
  EXPECT_EQ(c.code[2].layer, 0);
  EXPECT_EQ(c.code[2].imm[0], 2);
  EXPECT_EQ(disassemble_core(c, 2, {"input", "conv1"}), text);
  // A name with a line break stays inside its comment.
  std::string odd = disassemble_core(c, 2, {"in\nput", "conv1"});
  EXPECT_NE(odd.find(".layer 0  # in put\n"), std::string::npos);
  EXPECT_EQ(assemble_core(odd, "odd.s"), c);
}

TEST(Assembly, AcceptsFreeFormAndForwardLabels) {
  CoreProgram c = assemble_core(
      "start:  li r1,5   # comment\n"
      "\tloop: addi r1, r1, -1\n"
      "  bne r1, r0, loop\n"
      "  blt r0, r1, end\n"
      "  copy [r2], [r3+-4], seg=1, n_in=1, s_in=0, d_in=0, n_out=1, s_out=0, d_out=0\n"
      "end:\n"
      "  jmp start\n",
      "f.s");
  ASSERT_EQ(c.code.size(), 6u);
  EXPECT_EQ(c.code[2].imm[0], 1);
  EXPECT_EQ(c.code[3].imm[0], 5);
  EXPECT_EQ(c.code[4].addr[0], (Addr{2, 0}));
  EXPECT_EQ(c.code[4].addr[1], (Addr{3, -4}));
  EXPECT_EQ(c.code[5].imm[0], 0);
}

TEST(Assembly, RawTargetsOutsideTheCodeSurviveTheTextForm) {
  CoreProgram c;
  Instruction j = make(Op::kJmp);
  j.imm[0] = 5;  // invalid, but representable: printed as @5
  c.code = {j, make(Op::kHalt)};
  std::string text = disassemble_core(c, 0, {});
  EXPECT_NE(text.find("jmp @5"), std::string::npos);
  EXPECT_EQ(assemble_core(text, "r.s"), c);
  j.imm[0] = 2;  // one past the end: gets a label at the end
  c.code[0] = j;
  text = disassemble_core(c, 0, {});
  EXPECT_NE(text.find("  halt\nL2:\n"), std::string::npos);
  EXPECT_EQ(assemble_core(text, "r.s"), c);
}

TEST(Assembly, WeightOffsetsRoundTrip) {
  std::vector<int64_t> offs;
  CoreProgram c = assemble_core(
      ".tile 0 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=0 weights=@12\n"
      ".tile 1 pe=0 xbar=1 rows=1 cols=1 unsigned=0 layer=0 fullscale=1e+30\n",
      "w.s", &offs);
  EXPECT_EQ(offs, (std::vector<int64_t>{12, -1}));
  EXPECT_EQ(c.tiles[1].adc_full_scale, 1e30f);
  std::string text = disassemble_core(c, 0, {}, &offs);
  EXPECT_NE(text.find("fullscale=0 offset=0 weights=@12\n"), std::string::npos);
  EXPECT_NE(text.find("fullscale=1e+30 offset=0\n"), std::string::npos);
}

// Version-2 text has no `offset=` (read as 0); the disassembler always prints it, in the
// shortest form that reads back to the same float.
TEST(Assembly, TileOffsetIsOptionalOnInputAndAlwaysPrinted) {
  CoreProgram c = assemble_core(
      ".tile 0 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=15 gaddr=64\n"
      ".tile 1 pe=0 xbar=1 rows=1 cols=1 unsigned=0 layer=0 fullscale=15 offset=0.1 gaddr=128\n"
      ".tile 2 pe=0 xbar=2 rows=1 cols=1 unsigned=0 layer=0 fullscale=0 offset=-1e-07\n",
      "o.s");
  ASSERT_EQ(c.tiles.size(), 3u);
  EXPECT_EQ(c.tiles[0].adc_offset_lsb, 0.0f);
  EXPECT_EQ(c.tiles[0].weight_global_addr, 64);
  EXPECT_EQ(c.tiles[1].adc_offset_lsb, 0.1f);
  EXPECT_EQ(c.tiles[1].weight_global_addr, 128);
  EXPECT_EQ(c.tiles[2].adc_offset_lsb, -1e-7f);
  const std::string text = disassemble_core(c, 0, {});
  EXPECT_NE(text.find("fullscale=15 offset=0 gaddr=64\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fullscale=15 offset=0.1 gaddr=128\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fullscale=0 offset=-1e-07\n"), std::string::npos) << text;
  EXPECT_EQ(assemble_core(text, "o.s"), c);
}

TEST(Assembly, RandomCoresRoundTripBothWays) {
  std::mt19937 g(12345);
  for (int k = 0; k < 200; ++k) {
    SCOPED_TRACE(k);
    CoreProgram c = testing::random_core(g, 4, 6);
    ASSERT_NO_THROW(validate(c, 1, 4, "rand"));
    std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
    std::string text = disassemble_core(c, 1, names);
    CoreProgram back = assemble_core(text, "rand.s");
    CoreProgram stripped = c;
    for (TileDesc& t : stripped.tiles) t.weights.clear();
    ASSERT_EQ(back, stripped) << text;
    ASSERT_EQ(disassemble_core(back, 1, names), text);

    Program p;
    p.layers = names;
    p.cores = {CoreProgram{}, c, CoreProgram{}, c};
    std::vector<uint8_t> w;
    std::vector<uint8_t> bin = encode_program(p, &w);
    Program pb = decode_program(bin, w, "rand");
    ASSERT_EQ(pb, p);
    ASSERT_EQ(encode_program(pb, nullptr), bin);
  }
}

struct ErrorCase {
  std::string text;
  std::string message;  // exact, including FILE:LINE:COL
};

TEST(Assembly, ErrorsCarryExactLineAndColumn) {
  const std::vector<ErrorCase> cases = {
      {"  li r1, 5\n  lj r1, 5\n", "e.s:2:3: expected instruction mnemonic, found 'lj'"},
      {"  li r16, 5\n", "e.s:1:6: expected register r0..r15, found 'r16'"},
      {"  li r1 5\n", "e.s:1:9: expected ',', found '5'"},
      {"  li r1, 5 extra\n", "e.s:1:12: expected end of line, found 'extra'"},
      {"  li r1, 2147483648\n", "e.s:1:10: immediate out of range -2147483648..2147483647"},
      {"  fill [r1+0], length=4, value=0\n", "e.s:1:16: expected 'len=', found 'length=4'"},
      {"  fill [r1+0 len=4, value=0\n", "e.s:1:14: expected ']', found 'len=4'"},
      {"  fill r1, len=4, value=0\n", "e.s:1:8: expected '[' (address [rB+imm]), found 'r1'"},
      {"  mvm 3, [r1+0], [r2+0], acc=0\n", "e.s:1:7: expected tile tN, found '3'"},
      {"  max [r1+0], [r1+0], [r1+0], len=1, unsigned=2\n",
       "e.s:1:47: unsigned out of range 0..1"},
      {"\n\n  jmp nowhere\n", "e.s:3:7: undefined label 'nowhere'"},
      {"a:\na:\n", "e.s:2:1: label 'a' defined twice"},
      {".tile 1 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=0\n",
       "e.s:1:7: expected tile index 0 (tables are listed in order), found '1'"},
      {".tile 0 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=nan\n",
       "e.s:1:64: expected finite number, found 'nan'"},
      {".tile 0 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=0 offset=inf\n",
       "e.s:1:73: expected finite number, found 'inf'"},
      {".tile 0 pe=0 xbar=0 rows=1 cols=1 unsigned=0 layer=0 fullscale=0 offset=\n",
       "e.s:1:73: expected finite number, found end of line"},
      {".requant 0 kind=mul qmin=0 qmax=1\n",
       "e.s:1:17: expected 'per_channel' or 'add', found 'mul'"},
      {".lut 0 unsigned=1 table=[1,2 3]\n", "e.s:1:30: expected ',' or ']', found '3'"},
      {".lut 0 unsigned=1 table=[1,2\n", "e.s:1:29: expected ',' or ']', found end of line"},
      {".foo 3\n", "e.s:1:1: expected directive .layer, .tile, .requant or .lut, found '.foo'"},
      {".layer 70000\n", "e.s:1:8: layer index out of range 0..65535"},
      {"  halt\n  ?\n", "e.s:2:3: expected instruction, directive or label, found '?'"},
  };
  for (const ErrorCase& c : cases) {
    try {
      assemble_core(c.text, "e.s");
      ADD_FAILURE() << "no error for: " << c.text;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), c.message) << c.text;
    }
  }
}

TEST(Validate, RejectsEachKindOfBadReference) {
  auto base = [] {
    CoreProgram c = assemble_core(std::string(kTables) + "  halt\n", "v.s");
    c.tiles[0].weights.assign(6, 1);
    return c;
  };
  auto expect_error = [](const CoreProgram& c, const std::string& message) {
    try {
      validate(c, 3, 4, "prog");
      ADD_FAILURE() << "no error, expected " << message;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  ASSERT_NO_THROW(validate(base(), 3, 4, "prog"));
  CoreProgram c = base();
  c.code.push_back(make(Op::kAdd));
  c.code[1].rt = 16;
  expect_error(c, "prog: core 3, instruction 1 (add): register r16 does not exist (r0..r15)");
  c = base();
  c.code[0] = make(Op::kJmp);
  c.code[0].imm[0] = 1;
  expect_error(c, "prog: core 3, instruction 0 (jmp): branch target 1 outside the code (0..0)");
  c = base();
  c.code[0] = make(Op::kMvm);
  c.code[0].imm[0] = 1;
  expect_error(c, "prog: core 3, instruction 0 (mvm): tile 1 out of range (core has 1 tiles)");
  c.code[0].imm[0] = 0;
  c.code[0].addr[2].base = 1;
  expect_error(c, "prog: core 3, instruction 0 (mvm): unused address field is not zero");
  c = base();
  c.code[0] = make(Op::kRequant);
  c.code[0].imm[1] = 2;
  expect_error(c, "prog: core 3, instruction 0 (requant): qid 2 out of range (core has 2 requant sets)");
  c.code[0].imm[1] = 1;
  expect_error(c, "prog: core 3, instruction 0 (requant): qid 1 is a kind=add set, requant needs kind=per_channel");
  c.code[0] = make(Op::kAddq);
  expect_error(c, "prog: core 3, instruction 0 (addq): qid 0 is a kind=per_channel set, addq needs kind=add");
  c.code[0] = make(Op::kLut);
  c.code[0].imm[1] = -1;
  expect_error(c, "prog: core 3, instruction 0 (lut): lid -1 out of range (core has 1 LUTs)");
  c.code[0] = make(Op::kSend);
  c.code[0].imm[1] = 4;
  expect_error(c, "prog: core 3, instruction 0 (send): core 4 out of range (chip has 4 cores)");
  c.code[0] = make(Op::kRecv);
  c.code[0].imm[0] = -1;
  expect_error(c, "prog: core 3, instruction 0 (recv): len=-1 must be >= 0");
  c.code[0] = make(Op::kCopy);
  c.code[0].imm[4] = -3;
  expect_error(c, "prog: core 3, instruction 0 (copy): n_out=-3 must be >= 0");
  c.code[0] = make(Op::kHalt);
  c.code[0].imm[7] = 1;
  expect_error(c, "prog: core 3, instruction 0 (halt): unused immediate field is not zero");
  c = base();
  c.tiles[0].weights.pop_back();
  expect_error(c, "prog: core 3, tile 0: has 5 weights, rows * cols = 6");
  c = base();
  c.requant[0].shift[1] = 63;
  expect_error(c, "prog: core 3, requant 0: shift 63 outside 0..62");
  c = base();
  c.requant[0].bias.pop_back();
  expect_error(c, "prog: core 3, requant 0: bias/mult/shift need 2 entries each");
  c = base();
  c.luts[0].table.push_back(0);
  expect_error(c, "prog: core 3, lut 0: table has 5 entries, need 2^k with 4..256");
}

TEST(Validate, ProgramLevelLayerAndTensorChecks) {
  Program p;
  p.layers = {"only"};
  p.cores.resize(1);
  Instruction h = make(Op::kHalt);
  h.layer = 1;
  p.cores[0].code = {h};
  try {
    validate(p, "P");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "P: core 0, instruction 0 (halt): layer 1 out of range (1 layers)");
  }
  p.cores[0].code[0].layer = 0;
  TensorIO io;
  io.name = "x";
  io.shape = {3, 0};
  p.inputs = {io};
  EXPECT_THROW(validate(p, "P"), InputError);
  p.inputs[0].shape = {3, 1};
  p.inputs[0].scale = 0.0f;
  EXPECT_THROW(validate(p, "P"), InputError);
  p.inputs[0].scale = 1.0f;
  EXPECT_NO_THROW(validate(p, "P"));
}

// wload and reloadable tiles: text, struct, binary and back; validate's residency rules.
TEST(Assembly, WloadAndReloadableTilesRoundTrip) {
  const std::string text =
      "# core 0: 3 instructions, 3 tiles, 0 requant sets, 0 LUTs\n"
      ".tile 0 pe=0 xbar=1 rows=2 cols=2 unsigned=1 layer=0 fullscale=0 offset=0\n"
      ".tile 1 pe=0 xbar=1 rows=2 cols=1 unsigned=0 layer=0 fullscale=0 offset=0 gaddr=4096\n"
      ".tile 2 pe=0 xbar=1 rows=1 cols=2 unsigned=1 layer=0 fullscale=0 offset=0 gaddr=0\n"
      "  wload t1\n"
      "  mvm t1, [r0+0], [r0+64], acc=0\n"
      "  wload t2\n";
  CoreProgram core = assemble_core(text, "w.s");
  ASSERT_EQ(core.tiles.size(), 3u);
  EXPECT_EQ(core.tiles[0].weight_global_addr, -1);
  EXPECT_EQ(core.tiles[1].weight_global_addr, 4096);
  EXPECT_EQ(core.tiles[2].weight_global_addr, 0);
  ASSERT_EQ(core.code.size(), 3u);
  Instruction wl = make(Op::kWload);
  wl.imm[0] = 1;
  EXPECT_EQ(core.code[0], wl);
  EXPECT_STREQ(op_name(Op::kWload), "wload");
  EXPECT_EQ(static_cast<int>(Op::kWload), 33);
  core.tiles[0].weights = {1, 2, 3, 4};
  core.tiles[1].weights = {-1, -2};
  core.tiles[2].weights = {5, 6};
  validate(core, 0, 1, "w.s");
  Program p;
  p.cores = {core};
  std::vector<uint8_t> w;
  std::vector<uint8_t> bin = encode_program(p, &w);
  Program back = decode_program(bin, w, "dir");
  ASSERT_EQ(back, p);
  EXPECT_EQ(back.cores[0].tiles[1].weight_global_addr, 4096);
  CoreProgram stripped = back.cores[0];
  for (TileDesc& t : stripped.tiles) t.weights.clear();
  EXPECT_EQ(disassemble_core(stripped, 0, {}), text);
  auto error_of = [](const CoreProgram& c) {
    try {
      validate(c, 2, 4, "prog");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CoreProgram bad = core;
  bad.code[2].imm[0] = 0;
  EXPECT_EQ(error_of(bad),
            "prog: core 2, instruction 2 (wload): tile 0 is resident (weight_global_addr -1); wload "
            "needs a reloadable tile");
  bad = core;
  bad.code.pop_back();
  bad.tiles[2].weight_global_addr = -1;
  EXPECT_EQ(error_of(bad),
            "prog: core 2, tile 2: pe 0 crossbar 1 already holds resident tile 0 (a crossbar holds "
            "at most one resident tile; make the others reloadable)");
  bad = core;
  bad.code.clear();
  bad.tiles[1].weight_global_addr = -5;
  EXPECT_EQ(error_of(bad), "prog: core 2, tile 1: weight_global_addr -5 must be -1 (resident) or >= 0");
}

TEST(Isa, NamesAndLayoutTable) {
  Op op;
  ASSERT_TRUE(op_from_name("mvm", &op));
  EXPECT_EQ(op, Op::kMvm);
  EXPECT_FALSE(op_from_name("nop", &op));
  EXPECT_STREQ(op_name(Op::kSum32), "sum32");
  EXPECT_TRUE(is_known_op(51));
  EXPECT_FALSE(is_known_op(7));
  EXPECT_FALSE(is_known_op(255));
  // Named immediates, in text order, as documented.
  std::vector<std::string> names;
  for (const OperandSpec& s : operand_layout(Op::kCopy)) {
    if (s.name) names.push_back(s.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"seg", "n_in", "s_in", "d_in", "n_out", "s_out", "d_out"}));
  EXPECT_TRUE(operand_layout(Op::kHalt).empty());
}

}  // namespace
}  // namespace cimsim
