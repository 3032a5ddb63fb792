// Graph IR of the compiler frontend: typed tensors (Values) connected by operators (Nodes).
//
// Contract
//  - Produced by load_onnx() (onnx_loader.h) and normalized by simplify() (passes.h). After
//    simplify(): every Value has a known static `shape`; `nodes` are in topological order;
//    no Identity, Dropout, Constant, Shape or BatchNormalization-after-Conv/Gemm nodes remain;
//    every node whose inputs were all constant has been folded into a constant Value;
//    Conv/MaxPool/AveragePool attributes are normalized (see "Attributes" below).
//  - Layout: NCHW, row-major, for every tensor. Weights keep the ONNX layouts
//    (Conv W: [M, C/group, kH, kW]; Gemm B: [K, N] or [N, K] per transB).
//  - Batch: shapes are the model's static shapes. A symbolic or unknown dimension of a graph
//    input (torch exports a dynamic batch as "batch_size") is set to 1, so a CNN's shapes are
//    those of batch N=1. The float interpreter accepts any leading dimension N on inputs whose
//    declared leading dimension is 1 and runs the graph once per sample (outputs concatenated
//    along dimension 0), so constant-folded Reshape targets like [1, -1] stay correct.
//  - Element types: every runtime tensor is held as float (FloatTensor). `Value::dtype`
//    records the ONNX element type. Integer values (QuantizeLinear outputs, int8/uint8
//    weights, int64 shape/index tensors) are stored exactly as floats when |x| < 2^24;
//    integer constants additionally keep an exact int64 copy in `Value::int_data`.
//  - Value ids are indices into Graph::values; node ids are indices into Graph::nodes. Passes
//    may append values and rebuild `nodes`; they never renumber values (unused values stay,
//    unreferenced).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cimsim::ir {

// A dense tensor, NCHW row-major. A scalar has shape {} and one element.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Element type a Value had in the ONNX model (for messages and for the quantizer).
enum class DType { kFloat32, kFloat64, kFloat16, kInt64, kInt32, kInt8, kUInt8, kBool };

const char* dtype_name(DType t);
bool is_integer(DType t);

enum class OpKind {
  kConv,
  kGemm,
  kMatMul,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kRelu,
  kLeakyRelu,
  kClip,
  kSigmoid,
  kTanh,
  kMaxPool,
  kAveragePool,
  kGlobalAveragePool,
  kBatchNormalization,
  kFlatten,
  kReshape,
  kTranspose,
  kSqueeze,
  kUnsqueeze,
  kConcat,
  kSoftmax,
  kQuantizeLinear,
  kDequantizeLinear,
  // Removed or folded by simplify(); present only in a freshly loaded graph.
  kIdentity,
  kDropout,
  kConstant,
  kShape,
  kGather,
};

// ONNX op_type spelling ("Conv", ...) and its inverse (nullopt when unsupported).
const char* op_name(OpKind k);
std::optional<OpKind> op_from_name(const std::string& op_type);
// Comma-separated list of the supported ONNX op_types (for error messages and docs).
std::string supported_ops_list();

// Quantization annotation of a Value, filled from a QuantizeLinear/DequantizeLinear pair.
// real = scale * (q - zero_point); per-tensor when scale.size() == 1, else per channel along
// `axis` (weights: axis 0 = output channel).
struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;  // same size as scale
  int axis = 1;
  bool is_unsigned = false;  // uint8 codes (activations after ReLU) vs int8
  int bits = 8;
};

struct Value {
  std::string name;
  std::vector<int64_t> shape;  // static shape; valid after simplify() (see `shape_known`)
  bool shape_known = false;
  DType dtype = DType::kFloat32;
  std::optional<FloatTensor> data;  // set for constants (initializers, folded values)
  std::vector<int64_t> int_data;    // exact copy of `data` for integer-typed constants
  std::optional<QuantParams> quant;

  bool is_constant() const { return data.has_value(); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// One attribute value as ONNX stores it (INT, FLOAT, INTS, FLOATS, STRING).
struct Attribute {
  enum class Kind { kInt, kFloat, kInts, kFloats, kString };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0.0f;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
};

// Attributes
//  Nodes keep their ONNX attributes by name in `attrs`. After simplify(), Conv, MaxPool and
//  AveragePool always carry "kernel_shape", "strides", "pads" (ONNX order: begins then ends,
//  i.e. [top, left, bottom, right] for 2-D), "dilations" (all ints of the spatial rank) and
//  Conv "group"; "auto_pad" has been resolved into "pads" and removed. Clip always has its
//  bounds as attributes "min"/"max" (floats) and no bound inputs. Squeeze/Unsqueeze carry a
//  sorted, non-negative "axes" attribute and no axes input; Reshape's shape input is a
//  constant; Softmax carries "axis" (non-negative) and "coerce_2d"; Flatten/Concat/Gather
//  "axis" is non-negative; Transpose always has "perm". Read windows through window_params().
struct Node {
  OpKind kind = OpKind::kIdentity;
  std::string name;     // ONNX node name, or "<OpType>_<index>" when the model leaves it empty
  std::string op_type;  // ONNX spelling, for messages
  std::vector<int> inputs;   // value ids; -1 marks an omitted optional input
  std::vector<int> outputs;  // value ids
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key,
                                 const std::vector<int64_t>& fallback = {}) const;
  std::string attr_string(const std::string& key, const std::string& fallback = "") const;
};

// Normalized 2-D window parameters of a Conv/MaxPool/AveragePool node (1-D ops appear as
// kernel_h == 1). Valid after simplify().
struct WindowParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t group = 1;                // Conv only
  bool count_include_pad = false;   // AveragePool only
  bool ceil_mode = false;           // pools: output size computed with ceil (already in shapes)
};
WindowParams window_params(const Node& n);

struct Graph {
  std::string name;    // model graph name
  std::string source;  // file the graph came from (prefix of error messages)
  int64_t opset = 0;   // default-domain opset the model imports
  bool simplified = false;  // set by simplify(); run_float() requires it
  std::vector<Value> values;
  std::vector<Node> nodes;   // topological order
  std::vector<int> inputs;   // value ids of non-constant graph inputs, in model order
  std::vector<int> outputs;  // value ids of graph outputs, in model order

  // Node index producing value `v`, or -1 (graph input or constant).
  int producer(int v) const;
  // Node indices reading value `v`, in node order (a node reading it twice appears once).
  std::vector<int> consumers(int v) const;
  // Value id with this name, or -1.
  int find_value(const std::string& name) const;
  // Appends a value and returns its id.
  int add_value(Value v);
  bool is_graph_output(int v) const;
};

}  // namespace cimsim::ir
