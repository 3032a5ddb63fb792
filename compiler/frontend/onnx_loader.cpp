#include "compiler/frontend/onnx_loader.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "platform/spec/arch.h"

namespace cimsim::frontend {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& source, const std::string& msg) {
  throw InputError(source + ": " + msg);
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool dtype_from_onnx(int t, ir::DType* out) {
  switch (t) {
    case onnx::TensorProto::FLOAT: *out = ir::DType::kFloat32; return true;
    case onnx::TensorProto::DOUBLE: *out = ir::DType::kFloat64; return true;
    case onnx::TensorProto::FLOAT16: *out = ir::DType::kFloat16; return true;
    case onnx::TensorProto::INT64: *out = ir::DType::kInt64; return true;
    case onnx::TensorProto::INT32: *out = ir::DType::kInt32; return true;
    case onnx::TensorProto::INT8: *out = ir::DType::kInt8; return true;
    case onnx::TensorProto::UINT8: *out = ir::DType::kUInt8; return true;
    case onnx::TensorProto::BOOL: *out = ir::DType::kBool; return true;
    default: return false;
  }
}

std::string onnx_dtype_name(int t) {
  if (onnx::TensorProto::DataType_IsValid(t))
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
  return "type " + std::to_string(t);
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

size_t dtype_bytes(ir::DType t) {
  switch (t) {
    case ir::DType::kFloat32: return 4;
    case ir::DType::kFloat64: return 8;
    case ir::DType::kFloat16: return 2;
    case ir::DType::kInt64: return 8;
    case ir::DType::kInt32: return 4;
    case ir::DType::kInt8:
    case ir::DType::kUInt8:
    case ir::DType::kBool: return 1;
  }
  return 1;
}

// Reads `length` bytes at `offset` of an external data file, after checking that the location
// stays inside the model's folder.
std::string read_external(const onnx::TensorProto& t, const std::string& base_dir,
                          const std::string& source) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    try {
      if (kv.key() == "offset") offset = std::stoll(kv.value());
      if (kv.key() == "length") length = std::stoll(kv.value());
    } catch (const std::exception&) {
      fail(source, "tensor '" + t.name() + "': external data " + kv.key() + " '" + kv.value() +
                       "' is not an integer");
    }
  }
  const std::string what = "tensor '" + t.name() + "': external data location '" + location + "'";
  if (location.empty()) fail(source, "tensor '" + t.name() + "': external data has no location");
  fs::path loc(location);
  if (loc.is_absolute()) fail(source, what + " is an absolute path; expected a path relative to the model's folder");
  for (const fs::path& part : loc)
    if (part == "..") fail(source, what + " leaves the model's folder; expected a path inside it");
  fs::path base = base_dir.empty() ? fs::path(".") : fs::path(base_dir);
  fs::path full = base / loc;
  std::error_code ec;
  fs::path canon_base = fs::weakly_canonical(base, ec);
  fs::path canon_full = fs::weakly_canonical(full, ec);
  std::string cb = canon_base.string(), cf = canon_full.string();
  if (!ec && (cf.size() <= cb.size() || cf.compare(0, cb.size(), cb) != 0))
    fail(source, what + " resolves outside the model's folder (symbolic link?)");
  std::ifstream in(full, std::ios::binary);
  if (!in) fail(source, what + ": cannot open " + full.string());
  in.seekg(0, std::ios::end);
  int64_t file_size = static_cast<int64_t>(in.tellg());
  if (offset < 0 || offset > file_size)
    fail(source, what + ": offset " + std::to_string(offset) + " beyond the file's " +
                     std::to_string(file_size) + " bytes");
  if (length < 0) length = file_size - offset;
  if (offset + length > file_size)
    fail(source, what + ": offset " + std::to_string(offset) + " + length " + std::to_string(length) +
                     " beyond the file's " + std::to_string(file_size) + " bytes");
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) fail(source, what + ": read failed");
  return bytes;
}

ir::Attribute convert_attribute(const onnx::AttributeProto& a) {
  ir::Attribute out;
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      out.kind = ir::Attribute::Kind::kInt;
      out.i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      out.kind = ir::Attribute::Kind::kFloat;
      out.f = a.f();
      break;
    case onnx::AttributeProto::INTS:
      out.kind = ir::Attribute::Kind::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out.kind = ir::Attribute::Kind::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::STRING:
      out.kind = ir::Attribute::Kind::kString;
      out.s = a.s();
      break;
    default:
      out.kind = ir::Attribute::Kind::kString;
      break;
  }
  return out;
}

// Value of a Constant node, from whichever attribute form it uses.
ir::Value constant_value(const onnx::NodeProto& n, const std::string& node_name,
                         const std::string& base_dir, const std::string& source) {
  for (const auto& a : n.attribute()) {
    ir::Value v;
    if (a.name() == "value") {
      return value_from_tensor(a.t(), base_dir, source);
    } else if (a.name() == "value_float" || a.name() == "value_floats") {
      ir::FloatTensor t;
      if (a.name() == "value_float") {
        t.data = {a.f()};
      } else {
        t.shape = {static_cast<int64_t>(a.floats_size())};
        t.data.assign(a.floats().begin(), a.floats().end());
      }
      v.shape = t.shape;
      v.data = std::move(t);
      v.shape_known = true;
      return v;
    } else if (a.name() == "value_int" || a.name() == "value_ints") {
      ir::FloatTensor t;
      if (a.name() == "value_int") {
        v.int_data = {a.i()};
      } else {
        t.shape = {static_cast<int64_t>(a.ints_size())};
        v.int_data.assign(a.ints().begin(), a.ints().end());
      }
      for (int64_t x : v.int_data) t.data.push_back(static_cast<float>(x));
      v.dtype = ir::DType::kInt64;
      v.shape = t.shape;
      v.data = std::move(t);
      v.shape_known = true;
      return v;
    }
  }
  fail(source, "node '" + node_name + "' (Constant): expected a value, value_float(s) or value_int(s) attribute");
}

}  // namespace

ir::Value value_from_tensor(const onnx::TensorProto& t, const std::string& base_dir,
                            const std::string& source) {
  ir::Value v;
  v.name = t.name();
  if (!dtype_from_onnx(t.data_type(), &v.dtype))
    fail(source, "tensor '" + t.name() + "': unsupported data type " + onnx_dtype_name(t.data_type()) +
                     "; expected FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8 or BOOL");
  if (t.has_segment()) fail(source, "tensor '" + t.name() + "': segmented tensors are not supported");
  ir::FloatTensor ft;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) fail(source, "tensor '" + t.name() + "': negative dimension in " + shape_str({t.dims().begin(), t.dims().end()}));
    if (d > 0 && n > (int64_t{1} << 40) / d) fail(source, "tensor '" + t.name() + "': too many elements");
    ft.shape.push_back(d);
    n *= d;
  }
  const bool integer = ir::is_integer(v.dtype);
  std::vector<double> vals;  // only for the typed-field path of small tensors
  const bool external = t.data_location() == onnx::TensorProto::EXTERNAL;
  std::string external_bytes;
  if (external) external_bytes = read_external(t, base_dir, source);
  const std::string& raw = external ? external_bytes : t.raw_data();
  const bool use_raw = external || t.has_raw_data();
  auto mismatch = [&](int64_t got) {
    fail(source, "tensor '" + t.name() + "': shape " + shape_str(ft.shape) + " needs " +
                     std::to_string(n) + " elements of " + ir::dtype_name(v.dtype) + " but the data holds " +
                     std::to_string(got));
  };
  // Check the payload against the dims before allocating: the dims are untrusted (a few
  // bytes can declare 2^40 elements; found by fuzz_onnx as an 8 GB allocation).
  {
    int64_t got = 0;
    if (use_raw) {
      got = static_cast<int64_t>(raw.size() / dtype_bytes(v.dtype));
      if (raw.size() != static_cast<size_t>(n) * dtype_bytes(v.dtype)) mismatch(got);
    } else {
      switch (v.dtype) {
        case ir::DType::kFloat32: got = t.float_data_size(); break;
        case ir::DType::kFloat64: got = t.double_data_size(); break;
        case ir::DType::kInt64: got = t.int64_data_size(); break;
        default: got = t.int32_data_size(); break;  // float16, int32, int8, uint8, bool
      }
      if (got != n) mismatch(got);
    }
  }
  ft.data.resize(static_cast<size_t>(n));
  if (integer) v.int_data.resize(static_cast<size_t>(n));
  if (use_raw) {
    size_t eb = dtype_bytes(v.dtype);
    if (raw.size() != static_cast<size_t>(n) * eb) mismatch(static_cast<int64_t>(raw.size() / eb));
    const char* p = raw.data();
    for (int64_t i = 0; i < n; ++i, p += eb) {
      switch (v.dtype) {
        case ir::DType::kFloat32: std::memcpy(&ft.data[i], p, 4); break;
        case ir::DType::kFloat64: { double d; std::memcpy(&d, p, 8); ft.data[i] = static_cast<float>(d); break; }
        case ir::DType::kFloat16: { uint16_t h; std::memcpy(&h, p, 2); ft.data[i] = half_to_float(h); break; }
        case ir::DType::kInt64: { int64_t x; std::memcpy(&x, p, 8); v.int_data[i] = x; break; }
        case ir::DType::kInt32: { int32_t x; std::memcpy(&x, p, 4); v.int_data[i] = x; break; }
        case ir::DType::kInt8: v.int_data[i] = static_cast<int8_t>(*p); break;
        case ir::DType::kUInt8: v.int_data[i] = static_cast<uint8_t>(*p); break;
        case ir::DType::kBool: v.int_data[i] = *p != 0; break;
      }
    }
  } else {
    int64_t got = 0;
    switch (v.dtype) {
      case ir::DType::kFloat32:
        got = t.float_data_size();
        if (got != n) mismatch(got);
        for (int64_t i = 0; i < n; ++i) ft.data[i] = t.float_data(static_cast<int>(i));
        break;
      case ir::DType::kFloat64:
        got = t.double_data_size();
        if (got != n) mismatch(got);
        for (int64_t i = 0; i < n; ++i) ft.data[i] = static_cast<float>(t.double_data(static_cast<int>(i)));
        break;
      case ir::DType::kFloat16:
        got = t.int32_data_size();
        if (got != n) mismatch(got);
        for (int64_t i = 0; i < n; ++i)
          ft.data[i] = half_to_float(static_cast<uint16_t>(t.int32_data(static_cast<int>(i))));
        break;
      case ir::DType::kInt64:
        got = t.int64_data_size();
        if (got != n) mismatch(got);
        for (int64_t i = 0; i < n; ++i) v.int_data[i] = t.int64_data(static_cast<int>(i));
        break;
      case ir::DType::kInt32:
      case ir::DType::kInt8:
      case ir::DType::kUInt8:
      case ir::DType::kBool:
        got = t.int32_data_size();
        if (got != n) mismatch(got);
        for (int64_t i = 0; i < n; ++i) v.int_data[i] = t.int32_data(static_cast<int>(i));
        break;
    }
  }
  if (integer)
    for (int64_t i = 0; i < n; ++i) ft.data[i] = static_cast<float>(v.int_data[i]);
  v.shape = ft.shape;
  v.shape_known = true;
  v.data = std::move(ft);
  return v;
}

ir::Graph graph_from_model(const onnx::ModelProto& model, const std::string& source,
                           const std::string& base_dir) {
  ir::Graph g;
  g.source = source;
  const onnx::GraphProto& gp = model.graph();
  g.name = gp.name();
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") g.opset = op.version();
  if (g.opset == 0) g.opset = 1;  // IR 3 models without opset_import are opset 1

  std::map<std::string, int> by_name;
  auto define = [&](ir::Value v) {
    auto it = by_name.find(v.name);
    if (it != by_name.end()) {
      g.values[it->second] = std::move(v);
      return it->second;
    }
    std::string name = v.name;
    int id = g.add_value(std::move(v));
    by_name[name] = id;
    return id;
  };

  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) fail(source, "an initializer has no name");
    define(value_from_tensor(init, base_dir, source));
  }
  for (const auto& in : gp.input()) {
    if (by_name.count(in.name())) continue;  // an initializer listed as input (IR < 4)
    ir::Value v;
    v.name = in.name();
    if (!in.type().has_tensor_type())
      fail(source, "graph input '" + in.name() + "': expected a tensor type");
    const auto& tt = in.type().tensor_type();
    if (!dtype_from_onnx(tt.elem_type(), &v.dtype))
      fail(source, "graph input '" + in.name() + "': unsupported data type " + onnx_dtype_name(tt.elem_type()));
    if (tt.has_shape()) {
      int64_t elements = 1;
      for (const auto& d : tt.shape().dim()) {
        int64_t dim = d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : 1;
        if (dim > 0 && elements > (int64_t{1} << 40) / dim)
          fail(source, "graph input '" + in.name() + "': too many elements");
        elements *= dim;
        v.shape.push_back(dim);
      }
      v.shape_known = true;
    } else {
      fail(source, "graph input '" + in.name() + "': expected a shape (static or with a symbolic batch dimension)");
    }
    g.inputs.push_back(define(std::move(v)));
  }

  // Nodes: Constant nodes become values; the rest are sorted topologically.
  struct Pending {
    const onnx::NodeProto* proto;
    std::string name;
  };
  std::vector<Pending> pending;
  std::set<std::string> node_outputs;
  for (int i = 0; i < gp.node_size(); ++i) {
    const onnx::NodeProto& np = gp.node(i);
    std::string name = np.name().empty() ? np.op_type() + "_" + std::to_string(i) : np.name();
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      fail(source, "node '" + name + "' (" + np.domain() + "." + np.op_type() +
                       "): unsupported operator domain; supported: the default ONNX domain");
    if (!ir::op_from_name(np.op_type()))
      fail(source, "node '" + name + "' (" + np.op_type() + "): unsupported operator; supported: " +
                       ir::supported_ops_list());
    if (np.output_size() == 0 || np.output(0).empty())
      fail(source, "node '" + name + "' (" + np.op_type() + "): expected a named first output");
    for (const std::string& o : np.output()) {
      if (o.empty()) continue;
      if (!node_outputs.insert(o).second || by_name.count(o))
        fail(source, "node '" + name + "' (" + np.op_type() + "): output '" + o + "' is defined twice");
    }
    pending.push_back({&np, name});
  }
  auto known = [&](const std::string& n) { return by_name.count(n) != 0; };
  for (const Pending& p : pending)
    for (const std::string& in : p.proto->input())
      if (!in.empty() && !known(in) && !node_outputs.count(in))
        fail(source, "node '" + p.name + "' (" + p.proto->op_type() + "): input '" + in +
                         "' is not a graph input, an initializer or any node's output");

  // Kahn's algorithm, stable with respect to model order.
  std::vector<bool> done(pending.size(), false);
  std::set<std::string> available;
  for (const auto& kv : by_name) available.insert(kv.first);
  size_t placed = 0;
  while (placed < pending.size()) {
    bool progress = false;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (done[i]) continue;
      const onnx::NodeProto& np = *pending[i].proto;
      bool ready = true;
      for (const std::string& in : np.input())
        if (!in.empty() && !available.count(in)) ready = false;
      if (!ready) continue;
      done[i] = true;
      ++placed;
      progress = true;
      const std::string& name = pending[i].name;
      if (np.op_type() == "Constant") {
        ir::Value v = constant_value(np, name, base_dir, source);
        v.name = np.output(0);
        define(std::move(v));
        available.insert(np.output(0));
        continue;
      }
      ir::Node node;
      node.kind = *ir::op_from_name(np.op_type());
      node.name = name;
      node.op_type = np.op_type();
      for (const auto& a : np.attribute()) node.attrs[a.name()] = convert_attribute(a);
      for (const std::string& in : np.input()) node.inputs.push_back(in.empty() ? -1 : by_name.at(in));
      while (!node.inputs.empty() && node.inputs.back() < 0) node.inputs.pop_back();
      for (const std::string& o : np.output()) {
        if (o.empty()) {
          node.outputs.push_back(-1);
          continue;
        }
        ir::Value v;
        v.name = o;
        node.outputs.push_back(define(std::move(v)));
        available.insert(o);
      }
      if (node.kind == ir::OpKind::kSoftmax) {
        bool legacy = g.opset < 13;
        ir::Attribute axis;
        axis.i = node.attr_int("axis", legacy ? 1 : -1);
        node.attrs["axis"] = axis;
        ir::Attribute coerce;
        coerce.i = legacy ? 1 : 0;
        node.attrs["coerce_2d"] = coerce;
      }
      g.nodes.push_back(std::move(node));
    }
    if (!progress) {
      for (size_t i = 0; i < pending.size(); ++i)
        if (!done[i])
          fail(source, "node '" + pending[i].name + "' (" + pending[i].proto->op_type() +
                           "): the graph has a cycle through this node; expected an acyclic graph");
    }
  }

  for (const auto& out : gp.output()) {
    auto it = by_name.find(out.name());
    if (it == by_name.end())
      fail(source, "graph output '" + out.name() + "' is not produced by any node, input or initializer");
    g.outputs.push_back(it->second);
  }
  if (g.outputs.empty()) fail(source, "the graph has no outputs");
  return g;
}

ir::Graph load_onnx(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw InputError(path + ": cannot open file: " + std::strerror(errno));
  std::error_code ec;
  const auto size_bytes = std::filesystem::file_size(path, ec);
  if (!ec && size_bytes > static_cast<uintmax_t>(INT_MAX)) {
    ::close(fd);
    throw InputError(path + ": model file is larger than 2 GiB (protobuf limit); expected weights stored as "
                            "ONNX external data");
  }
  onnx::ModelProto model;
  bool ok;
  {
    google::protobuf::io::FileInputStream raw(fd);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    ok = model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  }
  ::close(fd);
  if (!ok) throw InputError(path + ": not a valid ONNX model (truncated or malformed protobuf)");
  if (!model.has_graph()) throw InputError(path + ": not a valid ONNX model (no graph)");
  std::string base = std::filesystem::path(path).parent_path().string();
  return graph_from_model(model, path, base);
}

}  // namespace cimsim::frontend
