#include "compiler/frontend/graph.h"

#include <algorithm>

namespace cimsim::ir {

namespace {

struct OpEntry {
  OpKind kind;
  const char* name;
};

constexpr OpEntry kOps[] = {
    {OpKind::kConv, "Conv"},
    {OpKind::kGemm, "Gemm"},
    {OpKind::kMatMul, "MatMul"},
    {OpKind::kAdd, "Add"},
    {OpKind::kSub, "Sub"},
    {OpKind::kMul, "Mul"},
    {OpKind::kDiv, "Div"},
    {OpKind::kRelu, "Relu"},
    {OpKind::kLeakyRelu, "LeakyRelu"},
    {OpKind::kClip, "Clip"},
    {OpKind::kSigmoid, "Sigmoid"},
    {OpKind::kTanh, "Tanh"},
    {OpKind::kMaxPool, "MaxPool"},
    {OpKind::kAveragePool, "AveragePool"},
    {OpKind::kGlobalAveragePool, "GlobalAveragePool"},
    {OpKind::kBatchNormalization, "BatchNormalization"},
    {OpKind::kFlatten, "Flatten"},
    {OpKind::kReshape, "Reshape"},
    {OpKind::kTranspose, "Transpose"},
    {OpKind::kSqueeze, "Squeeze"},
    {OpKind::kUnsqueeze, "Unsqueeze"},
    {OpKind::kConcat, "Concat"},
    {OpKind::kSoftmax, "Softmax"},
    {OpKind::kQuantizeLinear, "QuantizeLinear"},
    {OpKind::kDequantizeLinear, "DequantizeLinear"},
    {OpKind::kIdentity, "Identity"},
    {OpKind::kDropout, "Dropout"},
    {OpKind::kConstant, "Constant"},
    {OpKind::kShape, "Shape"},
    {OpKind::kGather, "Gather"},
};

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kInt64: return "int64";
    case DType::kInt32: return "int32";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
  }
  return "?";
}

bool is_integer(DType t) {
  return t == DType::kInt64 || t == DType::kInt32 || t == DType::kInt8 || t == DType::kUInt8 ||
         t == DType::kBool;
}

const char* op_name(OpKind k) {
  for (const OpEntry& e : kOps)
    if (e.kind == k) return e.name;
  return "?";
}

std::optional<OpKind> op_from_name(const std::string& op_type) {
  for (const OpEntry& e : kOps)
    if (op_type == e.name) return e.kind;
  return std::nullopt;
}

std::string supported_ops_list() {
  std::vector<std::string> names;
  for (const OpEntry& e : kOps) names.emplace_back(e.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (it->second.kind == Attribute::Kind::kFloat) return static_cast<int64_t>(it->second.f);
  return it->second.i;
}

float Node::attr_float(const std::string& key, float fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (it->second.kind == Attribute::Kind::kInt) return static_cast<float>(it->second.i);
  return it->second.f;
}

std::vector<int64_t> Node::attr_ints(const std::string& key,
                                     const std::vector<int64_t>& fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  return it->second.ints;
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  return it->second.s;
}

WindowParams window_params(const Node& n) {
  WindowParams p;
  std::vector<int64_t> k = n.attr_ints("kernel_shape");
  std::vector<int64_t> s = n.attr_ints("strides");
  std::vector<int64_t> pads = n.attr_ints("pads");
  std::vector<int64_t> d = n.attr_ints("dilations");
  if (k.size() == 2) {
    p.kernel_h = k[0];
    p.kernel_w = k[1];
    if (s.size() == 2) {
      p.stride_h = s[0];
      p.stride_w = s[1];
    }
    if (d.size() == 2) {
      p.dilation_h = d[0];
      p.dilation_w = d[1];
    }
    if (pads.size() == 4) {
      p.pad_top = pads[0];
      p.pad_left = pads[1];
      p.pad_bottom = pads[2];
      p.pad_right = pads[3];
    }
  } else if (k.size() == 1) {
    p.kernel_w = k[0];
    if (s.size() == 1) p.stride_w = s[0];
    if (d.size() == 1) p.dilation_w = d[0];
    if (pads.size() == 2) {
      p.pad_left = pads[0];
      p.pad_right = pads[1];
    }
  }
  p.group = n.attr_int("group", 1);
  p.count_include_pad = n.attr_int("count_include_pad", 0) != 0;
  p.ceil_mode = n.attr_int("ceil_mode", 0) != 0;
  return p;
}

int Graph::producer(int v) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (int o : nodes[i].outputs)
      if (o == v) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::consumers(int v) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (std::find(nodes[i].inputs.begin(), nodes[i].inputs.end(), v) != nodes[i].inputs.end())
      out.push_back(static_cast<int>(i));
  return out;
}

int Graph::find_value(const std::string& value_name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == value_name) return static_cast<int>(i);
  return -1;
}

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

bool Graph::is_graph_output(int v) const {
  return std::find(outputs.begin(), outputs.end(), v) != outputs.end();
}

}  // namespace cimsim::ir
