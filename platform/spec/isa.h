// The cimsim ISA and the in-memory Program: the contract between compiler and simulator.
//
// Specified in docs/isa.md (fields, semantics, unit, latency). The compiler produces a
// Program; program_io writes it as DIR/program.bin + DIR/weights.bin + DIR/cores/*.s; the
// simulator loads it back. Text and binary round-trip exactly.
//
// Machine model seen by one core's stream:
//  - 16 int32 registers r0..r15; r0 reads 0 and ignores writes; at start r15 = batch size
//    and every other register is 0.
//  - A byte-addressed local buffer of core.buffer_bytes bytes. Activation codes take one
//    byte each (activation_bits <= 8); int32 values take 4 bytes, little-endian.
//  - A byte-addressed global memory shared by all cores (through the NoC).
//  - Address operands are (base register, immediate): address = r[base] + imm.
//  - Execution semantics are sequential per core (program order); the timing model
//    overlaps independent instructions on different units (docs/timing.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cimsim {

// 2: wload, TileDesc::weight_global_addr; 3: TileDesc::adc_offset_lsb. decode_program reads
// version 2 too (as version 3 with every adc_offset_lsb 0; docs/isa.md "Versioning").
constexpr uint32_t kProgramVersion = 3;
constexpr uint32_t kOldestReadableProgramVersion = 2;
constexpr int kNumRegisters = 16;
constexpr int kBatchRegister = 15;

enum class Op : uint8_t {
  // scalar unit (1 cycle)
  kLi = 0,     // li    rd, imm                     rd = imm
  kAddi = 1,   // addi  rd, rs, imm                 rd = rs + imm
  kAdd = 2,    // add   rd, rs, rt                  rd = rs + rt
  kBne = 3,    // bne   rs, rt, target              if rs != rt: pc = target
  kBlt = 4,    // blt   rs, rt, target              if rs <  rt: pc = target (signed)
  kJmp = 5,    // jmp   target
  kHalt = 6,   // halt                              the core's stream ends
  // vector unit (latency: docs/timing.md)
  kCopy = 16,     // copy  D, S, seg, n_in, s_in, d_in, n_out, s_out, d_out   2-level strided bytes
  kFill = 17,     // fill  D, len, value               len bytes := value
  kRequant = 18,  // requant D, S, len, qid             int32[len] -> codes (per-channel params)
  kAddq = 19,     // addq  D, A, B, len, qid            codes + codes -> codes (two multipliers)
  kAdd32 = 20,    // add32 D, A, B, len                 int32 += int32 (D may equal A)
  kMax = 21,      // max   D, A, B, len, unsigned       elementwise max of codes
  kSum32 = 22,    // sum32 D, S, len, unsigned          int32 D[i] += code S[i]
  kLut = 23,      // lut   D, S, len, lid               D[i] = table[S[i]]
  // matrix unit: one crossbar tile (all input steps, all columns, shift-and-add)
  kMvm = 32,      // mvm   tile, D, S, acc             int32 D[c] (+)= sum_r W[r][c] * S[r]
  kWload = 33,    // wload tile                         program tile's crossbar from global memory
  // network interface and global memory
  kSend = 48,     // send  S, len, core, tag
  kRecv = 49,     // recv  D, len, core, tag
  kLoad = 50,     // load  D, G, len                    local D <- global G
  kStore = 51,    // store G, S, len                    global G <- local S
};

// An address operand: r[base] + imm.
struct Addr {
  uint8_t base = 0;
  int32_t imm = 0;
  bool operator==(const Addr& o) const { return base == o.base && imm == o.imm; }
};

// One instruction. Which fields are meaningful depends on op (see docs/isa.md and
// operand_layout() in isa.cpp); unused fields are zero so that == and round-trips are exact.
struct Instruction {
  Op op = Op::kHalt;
  uint16_t layer = 0;            // index into Program::layers, for reports and traces
  uint8_t rd = 0, rs = 0, rt = 0;
  std::array<Addr, 3> addr{};    // D, A/S, B/G as the op needs
  std::array<int32_t, 8> imm{};  // immediates in the order of the op's text syntax
  bool operator==(const Instruction& o) const;
};

// A weight tile programmed into one crossbar. Weights are the logical signed codes;
// the crossbar model slices them into cells with platform/spec/slicing.h, so the
// compiler's column counts and the model's conductances come from one function.
struct TileDesc {
  int32_t pe = 0;        // PE index within the core
  int32_t crossbar = 0;  // crossbar index within the PE
  int32_t rows = 0;      // weight rows used (<= crossbar.rows)
  int32_t cols = 0;      // weight columns used (<= weight_cols_per_crossbar)
  bool input_unsigned = true;   // activation codes feeding this tile are unsigned
  int32_t layer = 0;
  float adc_full_scale = 0.0f;  // kCalibrated only: column-sum full scale, cell-level units
  // Offset correction of this tile's ADC conversions, in LSBs (real-valued, finite,
  // |v| <= 65536): subtracted from every conversion before rounding, next to the device's
  // nonideality.adc_offset_lsb (models/kernels/adc_model.h). The compiler writes 0;
  // `cimsim calibrate` with calibration.adc_offset the tuned value (docs/calibration.md).
  float adc_offset_lsb = 0.0f;
  std::vector<int8_t> weights;  // rows * cols, row-major [r][c]
  // -1: resident (programmed before the run; at most one resident tile per crossbar).
  // >= 0: reloadable: its weights (rows * cols int8 codes, row-major) are stored in global
  // memory at this address and `wload` must program the crossbar before `mvm` uses it.
  // Several tiles of a core may share one (pe, crossbar); the crossbar holds one at a time.
  int64_t weight_global_addr = -1;
  bool operator==(const TileDesc& o) const;
};

// Requantization parameter sets referenced by qid.
struct RequantDesc {
  enum class Kind : uint8_t { kPerChannel = 0, kAdd = 1 } kind = Kind::kPerChannel;
  int32_t qmin = 0, qmax = 255;
  // kPerChannel: element i uses channel i % channels: acc' = acc + bias[ch]; out = requantize(acc', m[ch], shift[ch])
  int32_t channels = 0;
  std::vector<int32_t> bias, multiplier;
  std::vector<int32_t> shift;
  // kAdd: out = add_requantize(a, mult_a, b, mult_b, add_shift)
  int32_t mult_a = 0, mult_b = 0, add_shift = 0;
  // kAdd: how addq reads the A and B code bytes (uint8 when true, int8 otherwise); a residual
  // Add often sums a signed conv output and an unsigned (post-ReLU) skip tensor.
  bool a_unsigned = false, b_unsigned = false;
  bool operator==(const RequantDesc& o) const;
};

// 256-entry lookup tables referenced by lid: out = table[code - (in_unsigned ? 0 : -128)].
struct LutDesc {
  bool in_unsigned = false;
  std::vector<int32_t> table;  // 2^activation_bits entries
  bool operator==(const LutDesc& o) const;
};

struct CoreProgram {
  std::vector<Instruction> code;
  std::vector<TileDesc> tiles;
  std::vector<RequantDesc> requant;
  std::vector<LutDesc> luts;
  bool operator==(const CoreProgram& o) const;
};

// A model input or output living in global memory, one image after another.
struct TensorIO {
  std::string name;
  std::vector<int64_t> shape;   // per image, ONNX order without batch: {C,H,W} or {N}
  float scale = 1.0f;           // code * scale = real value
  bool is_unsigned = false;
  int32_t bits = 8;
  int64_t global_addr = 0;      // image n starts at global_addr + n * bytes_per_image
  int64_t bytes_per_image = 0;  // codes are stored HWC (channels last) for 3-D shapes
  bool host_softmax = false;    // outputs only: softmax applied in float after dequantization
  bool operator==(const TensorIO& o) const;
};

struct Program {
  uint32_t version = kProgramVersion;
  uint64_t arch_fingerprint = 0;
  std::string model_name;
  std::vector<std::string> layers;  // layer names (from the ONNX nodes)
  std::vector<TensorIO> inputs, outputs;
  std::vector<CoreProgram> cores;   // one per chip core (empty streams halt at once)
  bool operator==(const Program& o) const;
};

const char* op_name(Op op);
// Number of dynamic instructions is counted per executed instruction, including scalar ones.

// Operand layout: which Instruction fields an op uses, in text order. The assembler, the
// disassembler, the binary encoder/decoder and validate() all walk this one table, so the
// encodings cannot disagree (docs/isa.md lists it per instruction).
enum class OperandKind : uint8_t {
  kReg,     // register field: slot 0 = rd, 1 = rs, 2 = rt; text "rN"
  kAddr,    // addr[slot]; text "[rB+imm]"
  kImm,     // imm[slot]; text "value" (positional) or "name=value"
  kTarget,  // imm[slot] = branch target (instruction index); text: a label
  kTile,    // imm[slot] = tile index in CoreProgram::tiles; text "tN"
};
// What an immediate means, for range checks (validate) and documentation.
enum class ImmRole : uint8_t {
  kAny,     // any int32 (offsets, strides, li values)
  kLength,  // >= 0 (bytes or elements, counts)
  kFlag,    // 0 or 1
  kByte,    // -128..255 (fill value)
  kQid,     // index into CoreProgram::requant
  kLid,     // index into CoreProgram::luts
  kCore,    // core index in [0, num_cores)
};
struct OperandSpec {
  OperandKind kind;
  uint8_t slot;
  const char* name;  // text key for named immediates (nullptr: positional)
  ImmRole role = ImmRole::kAny;
};
// Empty for halt. Throws nothing; ops not in the enum give an empty layout.
const std::vector<OperandSpec>& operand_layout(Op op);
// True for the opcodes listed in Op (decoders check raw bytes with this).
bool is_known_op(uint8_t code);
// Mnemonic -> Op; false when unknown.
bool op_from_name(const std::string& name, Op* op);

// Checks one core's stream and tables: registers < 16, branch targets inside the code,
// tile/qid/lid indices in range, send/recv core in [0, num_cores), lengths >= 0, flags 0/1,
// fields the op does not use are zero, tables well formed (weights.size() == rows * cols,
// requant vectors of `channels` entries, shifts 0..62, LUTs of 2^k entries, 4 <= 2^k <= 256).
// Throws InputError("WHERE: core C, instruction I (op): what") or "WHERE: core C, tile T: ...".
void validate(const CoreProgram& core, int core_index, int num_cores, const std::string& where);
// Every core plus program-level checks: layer indices < layers.size() (when layers is
// non-empty), TensorIO shapes positive and scales finite and > 0.
void validate(const Program& program, const std::string& where);

}  // namespace cimsim
