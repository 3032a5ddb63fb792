#include "compiler/frontend/shape_inference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "platform/spec/arch.h"

namespace cimsim::frontend {

namespace {

using Shape = std::vector<int64_t>;

constexpr int64_t kMaxElements = int64_t{1} << 40;
// Bound on kernel sizes, strides, dilations and pads so that window arithmetic on dimensions
// up to kMaxElements cannot overflow.
constexpr int64_t kMaxWindowParam = int64_t{1} << 20;

struct Ctx {
  ir::Graph& g;
  ir::Node& n;

  [[noreturn]] void fail(const std::string& msg) const {
    throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + "): " + msg);
  }
  size_t num_inputs() const { return n.inputs.size(); }
  bool has_input(size_t i) const { return i < n.inputs.size() && n.inputs[i] >= 0; }
  const ir::Value& in(size_t i) const {
    if (!has_input(i)) fail("missing input " + std::to_string(i));
    return g.values[n.inputs[i]];
  }
  const Shape& shape(size_t i) const { return in(i).shape; }
  void set_out(size_t i, Shape s, ir::DType t) {
    if (i >= n.outputs.size() || n.outputs[i] < 0) return;
    // Same cap as the loader's for initializers and graph inputs: keeps every element count
    // (and the shape arithmetic of the nodes that read this output) far from int64 overflow.
    int64_t elements = 1;
    for (int64_t d : s) {
      if (d > 0 && elements > kMaxElements / d) fail("output shape " + shape_to_string(s) + " is too large");
      elements *= d;
    }
    ir::Value& v = g.values[n.outputs[i]];
    v.shape = std::move(s);
    v.shape_known = true;
    v.dtype = t;
  }
  void require_inputs(size_t lo, size_t hi) const {
    size_t count = 0;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] >= 0) count = i + 1;
    if (count < lo || n.inputs.size() > hi)
      fail("expected " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi)) +
           " inputs, got " + std::to_string(n.inputs.size()));
    for (size_t i = 0; i < lo; ++i)
      if (n.inputs[i] < 0) fail("input " + std::to_string(i) + " is required");
  }
  std::vector<int64_t> const_ints(size_t i, const char* what) const {
    const ir::Value& v = in(i);
    if (!v.is_constant())
      fail(std::string(what) + " input '" + v.name + "' must be constant (computable at compile time)");
    if (!v.int_data.empty() || v.numel() == 0) return v.int_data;
    std::vector<int64_t> out;
    for (float f : v.data->data) out.push_back(static_cast<int64_t>(std::llround(f)));
    return out;
  }
  int64_t axis(int64_t a, int64_t rank, const char* what = "axis") const {
    if (a < -rank || a >= rank)
      fail(std::string(what) + " " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    return a < 0 ? a + rank : a;
  }
  void set_ints(const std::string& key, std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    n.attrs[key] = a;
  }
  void set_int(const std::string& key, int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    n.attrs[key] = a;
  }
  void set_float(const std::string& key, float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    n.attrs[key] = a;
  }
};

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Resolves kernel/strides/pads/dilations (incl. auto_pad) and returns the output spatial dims.
Shape infer_window(Ctx& c, const Shape& x, const Shape& kernel, bool ceil_mode) {
  const size_t sp = x.size() - 2;
  if (kernel.size() != sp)
    c.fail("kernel_shape " + shape_to_string(kernel) + " does not match the input's " +
           std::to_string(sp) + " spatial dimensions");
  Shape strides = c.n.attr_ints("strides", Shape(sp, 1));
  Shape dil = c.n.attr_ints("dilations", Shape(sp, 1));
  Shape pads = c.n.attr_ints("pads", Shape(2 * sp, 0));
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp)
    c.fail("strides/dilations/pads do not match " + std::to_string(sp) + " spatial dimensions");
  for (size_t i = 0; i < sp; ++i) {
    if (kernel[i] <= 0 || strides[i] <= 0 || dil[i] <= 0) c.fail("kernel, strides and dilations must be positive");
    if (pads[i] < 0 || pads[i + sp] < 0) c.fail("pads must be non-negative");
    if (kernel[i] > kMaxWindowParam || strides[i] > kMaxWindowParam || dil[i] > kMaxWindowParam ||
        pads[i] > kMaxWindowParam || pads[i + sp] > kMaxWindowParam)
      c.fail("kernel, strides, dilations and pads must be at most " + std::to_string(kMaxWindowParam));
  }
  std::string auto_pad = c.n.attr_string("auto_pad", "NOTSET");
  Shape out(sp);
  for (size_t i = 0; i < sp; ++i) {
    int64_t in = x[2 + i];
    int64_t eff = (kernel[i] - 1) * dil[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t o = (in + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(0, (o - 1) * strides[i] + eff - in);
      int64_t small = total / 2;
      pads[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[i + sp] = total - pads[i];
    } else if (auto_pad == "VALID") {
      pads[i] = pads[i + sp] = 0;
    } else if (auto_pad != "NOTSET" && !auto_pad.empty()) {
      c.fail("auto_pad '" + auto_pad + "' unsupported; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    }
    out[i] = window_out(in, kernel[i], strides[i], pads[i], pads[i + sp], dil[i], ceil_mode);
    if (out[i] <= 0)
      c.fail("window " + std::to_string(eff) + " larger than padded input " + std::to_string(in));
  }
  c.n.attrs.erase("auto_pad");
  c.set_ints("kernel_shape", kernel);
  c.set_ints("strides", strides);
  c.set_ints("pads", pads);
  c.set_ints("dilations", dil);
  return out;
}

void require_spatial(Ctx& c, const Shape& x) {
  if (x.size() != 3 && x.size() != 4)
    c.fail("input shape " + shape_to_string(x) + ": expected [N, C, L] or [N, C, H, W]");
}

}  // namespace

std::string shape_to_string(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[i] = da == 1 ? db : da;
  }
  return true;
}

int64_t window_out(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                   int64_t dilation, bool ceil_mode) {
  int64_t eff = (kernel - 1) * dilation + 1;
  int64_t span = in + pad_begin + pad_end - eff;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

void infer_node(ir::Graph& g, ir::Node& n) {
  Ctx c{g, n};
  using K = ir::OpKind;
  const ir::DType f32 = ir::DType::kFloat32;
  switch (n.kind) {
    case K::kConv: {
      c.require_inputs(2, 3);
      const Shape& x = c.shape(0);
      const Shape& w = c.shape(1);
      require_spatial(c, x);
      if (w.size() != x.size()) c.fail("weight shape " + shape_to_string(w) + " does not match input rank");
      int64_t group = n.attr_int("group", 1);
      if (group <= 0 || x[1] % group != 0 || w[0] % group != 0 || w[1] * group != x[1])
        c.fail("input channels " + std::to_string(x[1]) + ", weight " + shape_to_string(w) + " and group " +
               std::to_string(group) + " are inconsistent");
      if (c.has_input(2) && c.shape(2) != Shape{w[0]})
        c.fail("bias shape " + shape_to_string(c.shape(2)) + ": expected [" + std::to_string(w[0]) + "]");
      Shape kernel(w.begin() + 2, w.end());
      if (n.has_attr("kernel_shape") && n.attr_ints("kernel_shape") != kernel)
        c.fail("kernel_shape attribute disagrees with weight shape " + shape_to_string(w));
      Shape sp = infer_window(c, x, kernel, false);
      c.set_int("group", group);
      Shape out{x[0], w[0]};
      out.insert(out.end(), sp.begin(), sp.end());
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kMaxPool:
    case K::kAveragePool: {
      c.require_inputs(1, 1);
      const Shape& x = c.shape(0);
      require_spatial(c, x);
      if (!n.has_attr("kernel_shape")) c.fail("kernel_shape attribute is required");
      if (n.attr_int("storage_order", 0) != 0) c.fail("storage_order=1 unsupported");
      if (n.outputs.size() > 1 && n.outputs[1] >= 0) c.fail("the Indices output is unsupported");
      bool ceil_mode = n.attr_int("ceil_mode", 0) != 0;
      if (n.kind == K::kAveragePool && n.has_attr("dilations")) {
        for (int64_t d : n.attr_ints("dilations"))
          if (d != 1) c.fail("AveragePool dilations unsupported");
      }
      Shape sp = infer_window(c, x, n.attr_ints("kernel_shape"), ceil_mode);
      Shape out{x[0], x[1]};
      out.insert(out.end(), sp.begin(), sp.end());
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kGlobalAveragePool: {
      c.require_inputs(1, 1);
      const Shape& x = c.shape(0);
      if (x.size() < 3) c.fail("input shape " + shape_to_string(x) + ": expected [N, C, spatial...]");
      Shape out(x.size(), 1);
      out[0] = x[0];
      out[1] = x[1];
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kGemm: {
      c.require_inputs(2, 3);
      Shape a = c.shape(0), b = c.shape(1);
      if (a.size() != 2 || b.size() != 2)
        c.fail("A " + shape_to_string(a) + " and B " + shape_to_string(b) + " must be 2-D");
      if (n.attr_int("transA", 0)) std::swap(a[0], a[1]);
      if (n.attr_int("transB", 0)) std::swap(b[0], b[1]);
      if (a[1] != b[0]) c.fail("inner dimensions differ: A " + shape_to_string(a) + ", B " + shape_to_string(b));
      Shape out{a[0], b[1]};
      if (c.has_input(2)) {
        Shape bc;
        if (!broadcast_shapes(c.shape(2), out, &bc) || bc != out)
          c.fail("C " + shape_to_string(c.shape(2)) + " does not broadcast to " + shape_to_string(out));
      }
      c.set_out(0, out, f32);
      break;
    }
    case K::kMatMul: {
      c.require_inputs(2, 2);
      Shape a = c.shape(0), b = c.shape(1);
      if (a.empty() || b.empty()) c.fail("scalar operands unsupported");
      bool a1 = a.size() == 1, b1 = b.size() == 1;
      if (a1) a.insert(a.begin(), 1);
      if (b1) b.push_back(1);
      if (a.back() != b[b.size() - 2])
        c.fail("inner dimensions differ: " + shape_to_string(c.shape(0)) + " x " + shape_to_string(c.shape(1)));
      Shape batch;
      if (!broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2), &batch))
        c.fail("batch dimensions do not broadcast");
      Shape out = batch;
      if (!a1) out.push_back(a[a.size() - 2]);
      if (!b1) out.push_back(b.back());
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kAdd:
    case K::kSub:
    case K::kMul:
    case K::kDiv: {
      c.require_inputs(2, 2);
      Shape out;
      if (!broadcast_shapes(c.shape(0), c.shape(1), &out))
        c.fail("shapes " + shape_to_string(c.shape(0)) + " and " + shape_to_string(c.shape(1)) + " do not broadcast");
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kRelu:
    case K::kLeakyRelu:
    case K::kSigmoid:
    case K::kTanh:
    case K::kIdentity:
      c.require_inputs(1, 1);
      c.set_out(0, c.shape(0), c.in(0).dtype);
      break;
    case K::kDropout:
      c.require_inputs(1, 3);
      c.set_out(0, c.shape(0), c.in(0).dtype);
      c.set_out(1, c.shape(0), ir::DType::kBool);
      break;
    case K::kSoftmax: {
      c.require_inputs(1, 1);
      int64_t r = static_cast<int64_t>(c.shape(0).size());
      c.set_int("axis", c.axis(n.attr_int("axis", -1), std::max<int64_t>(r, 1)));
      c.set_out(0, c.shape(0), c.in(0).dtype);
      break;
    }
    case K::kClip: {
      c.require_inputs(1, 3);
      bool integer = ir::is_integer(c.in(0).dtype);
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (g.opset < 11 || n.has_attr("min") || n.has_attr("max")) {
        lo = n.attr_float("min", lo);
        hi = n.attr_float("max", hi);
      }
      for (size_t i = 1; i < 3; ++i) {
        if (!c.has_input(i)) continue;
        const ir::Value& b = c.in(i);
        if (!b.is_constant()) c.fail("bound input '" + b.name + "' must be constant");
        if (b.numel() != 1) c.fail("bound input '" + b.name + "' must be a scalar");
        (i == 1 ? lo : hi) = b.data->data[0];
      }
      (void)integer;
      c.set_float("min", lo);
      c.set_float("max", hi);
      n.inputs.resize(1);
      c.set_out(0, c.shape(0), c.in(0).dtype);
      break;
    }
    case K::kBatchNormalization: {
      c.require_inputs(5, 5);
      if (n.attr_int("training_mode", 0) != 0) c.fail("training_mode=1 unsupported (export the model in eval mode)");
      for (size_t i = 1; i < n.outputs.size(); ++i)
        if (n.outputs[i] >= 0 && (g.is_graph_output(n.outputs[i]) || !g.consumers(n.outputs[i]).empty()))
          c.fail("training outputs (running mean/var) unsupported");
      const Shape& x = c.shape(0);
      if (x.size() < 2) c.fail("input shape " + shape_to_string(x) + ": expected [N, C, ...]");
      for (size_t i = 1; i < 5; ++i)
        if (c.shape(i) != Shape{x[1]})
          c.fail("parameter '" + c.in(i).name + "' shape " + shape_to_string(c.shape(i)) + ": expected [" +
                 std::to_string(x[1]) + "]");
      n.outputs.resize(1);
      c.set_out(0, x, c.in(0).dtype);
      break;
    }
    case K::kFlatten: {
      c.require_inputs(1, 1);
      const Shape& x = c.shape(0);
      int64_t r = static_cast<int64_t>(x.size());
      int64_t a = n.attr_int("axis", 1);
      if (a < -r || a > r) c.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
      if (a < 0) a += r;
      c.set_int("axis", a);
      c.set_out(0, {product(x, 0, a), product(x, a, x.size())}, c.in(0).dtype);
      break;
    }
    case K::kReshape: {
      c.require_inputs(2, 2);
      const Shape& x = c.shape(0);
      Shape target = c.const_ints(1, "shape");
      bool allowzero = n.attr_int("allowzero", 0) != 0;
      int64_t known = 1, infer_at = -1;
      for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] == 0 && !allowzero) {
          if (i >= x.size()) c.fail("shape entry 0 at position " + std::to_string(i) + " has no input dimension to copy");
          target[i] = x[i];
        }
        if (target[i] == -1) {
          if (infer_at >= 0) c.fail("more than one -1 in shape " + shape_to_string(c.const_ints(1, "shape")));
          infer_at = static_cast<int64_t>(i);
        } else if (target[i] < 0 || target[i] > (int64_t{1} << 40)) {
          c.fail("shape entry " + std::to_string(target[i]) + " out of range");
        } else {
          if (target[i] > 0 && known > (int64_t{1} << 40) / target[i]) c.fail("shape " + shape_to_string(target) + " too large");
          known *= target[i];
        }
      }
      int64_t total = product(x, 0, x.size());
      if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
          c.fail("cannot reshape " + shape_to_string(x) + " to " + shape_to_string(c.const_ints(1, "shape")));
        target[infer_at] = total / known;
      } else if (known != total) {
        c.fail("cannot reshape " + shape_to_string(x) + " (" + std::to_string(total) + " elements) to " +
               shape_to_string(target));
      }
      c.set_out(0, target, c.in(0).dtype);
      break;
    }
    case K::kTranspose: {
      c.require_inputs(1, 1);
      const Shape& x = c.shape(0);
      Shape perm = n.attr_ints("perm");
      if (perm.empty())
        for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
      if (perm.size() != x.size()) c.fail("perm " + shape_to_string(perm) + " does not match rank " + std::to_string(x.size()));
      Shape sorted = perm, out;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != static_cast<int64_t>(i)) c.fail("perm " + shape_to_string(perm) + " is not a permutation");
      for (int64_t p : perm) out.push_back(x[p]);
      c.set_ints("perm", perm);
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kSqueeze:
    case K::kUnsqueeze: {
      c.require_inputs(1, 2);
      const Shape& x = c.shape(0);
      bool unsq = n.kind == K::kUnsqueeze;
      bool have_axes = c.has_input(1) || n.has_attr("axes");
      Shape axes = c.has_input(1) ? c.const_ints(1, "axes") : n.attr_ints("axes");
      int64_t rank = static_cast<int64_t>(x.size()) + (unsq ? static_cast<int64_t>(axes.size()) : 0);
      if (unsq && !have_axes) c.fail("axes are required");
      for (int64_t& a : axes) a = c.axis(a, rank);
      Shape sorted = axes;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) c.fail("repeated axes");
      Shape out;
      if (unsq) {
        size_t src = 0;
        for (int64_t i = 0; i < rank; ++i)
          out.push_back(std::binary_search(sorted.begin(), sorted.end(), i) ? 1 : x[src++]);
      } else {
        if (!have_axes)
          for (size_t i = 0; i < x.size(); ++i)
            if (x[i] == 1) sorted.push_back(static_cast<int64_t>(i));
        for (int64_t a : sorted)
          if (x[a] != 1) c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x[a]));
        for (size_t i = 0; i < x.size(); ++i)
          if (!std::binary_search(sorted.begin(), sorted.end(), static_cast<int64_t>(i))) out.push_back(x[i]);
      }
      c.set_ints("axes", sorted);
      n.inputs.resize(1);
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kConcat: {
      if (n.inputs.empty()) c.fail("expected at least one input");
      for (size_t i = 0; i < n.inputs.size(); ++i) c.in(i);
      Shape out = c.shape(0);
      if (!n.has_attr("axis")) c.fail("axis attribute is required");
      int64_t a = c.axis(n.attr_int("axis", 0), static_cast<int64_t>(out.size()));
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        const Shape& s = c.shape(i);
        if (s.size() != out.size()) c.fail("inputs have different ranks");
        for (size_t d = 0; d < s.size(); ++d)
          if (static_cast<int64_t>(d) != a && s[d] != out[d])
            c.fail("input shapes " + shape_to_string(c.shape(0)) + " and " + shape_to_string(s) + " differ off axis");
        if (s[a] > kMaxElements - out[a]) c.fail("concatenated axis is too large");
        out[a] += s[a];
      }
      c.set_int("axis", a);
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kQuantizeLinear:
    case K::kDequantizeLinear: {
      c.require_inputs(2, 3);
      const Shape& x = c.shape(0);
      int64_t r = static_cast<int64_t>(x.size());
      int64_t a = n.attr_int("axis", 1);
      int64_t ns = c.in(1).numel();
      if (ns != 1) {
        a = c.axis(a, r);
        if (c.shape(1).size() != 1 || x[a] != ns)
          c.fail("scale shape " + shape_to_string(c.shape(1)) + " matches neither a scalar nor axis " +
                 std::to_string(a) + " of " + shape_to_string(x));
      } else if (a >= -r && a < r) {
        a = a < 0 ? a + r : a;  // unused for a per-tensor scale; only normalized
      }
      if (c.has_input(2) && c.in(2).numel() != ns) c.fail("zero point and scale have different sizes");
      if (c.in(1).is_constant())
        for (float sc : c.in(1).data->data)
          if (!(sc > 0.0f) || !std::isfinite(sc)) c.fail("scale " + std::to_string(sc) + " must be positive and finite");
      c.set_int("axis", a);
      ir::DType t = f32;
      if (n.kind == K::kQuantizeLinear) {
        t = c.has_input(2) ? c.in(2).dtype : ir::DType::kUInt8;
        if (t != ir::DType::kUInt8 && t != ir::DType::kInt8)
          c.fail("zero point type " + std::string(ir::dtype_name(t)) + " unsupported; expected uint8 or int8");
      }
      c.set_out(0, x, t);
      break;
    }
    case K::kShape: {
      c.require_inputs(1, 1);
      int64_t r = static_cast<int64_t>(c.shape(0).size());
      int64_t start = n.attr_int("start", 0), end = n.attr_int("end", r);
      if (start < 0) start += r;
      if (end < 0) end += r;
      start = std::clamp<int64_t>(start, 0, r);
      end = std::clamp<int64_t>(end, 0, r);
      c.set_int("start", start);
      c.set_int("end", end);
      c.set_out(0, {std::max<int64_t>(0, end - start)}, ir::DType::kInt64);
      break;
    }
    case K::kGather: {
      c.require_inputs(2, 2);
      const Shape& x = c.shape(0);
      if (x.empty()) c.fail("data must have rank >= 1");
      int64_t a = c.axis(n.attr_int("axis", 0), static_cast<int64_t>(x.size()));
      if (!ir::is_integer(c.in(1).dtype)) c.fail("indices must be integers");
      Shape out(x.begin(), x.begin() + a);
      out.insert(out.end(), c.shape(1).begin(), c.shape(1).end());
      out.insert(out.end(), x.begin() + a + 1, x.end());
      c.set_int("axis", a);
      c.set_out(0, out, c.in(0).dtype);
      break;
    }
    case K::kConstant:
      c.fail("Constant nodes are turned into values by the loader");
  }
  for (int o : n.outputs)
    if (o >= 0)
      for (int64_t d : g.values[o].shape)
        if (d < 0) c.fail("inferred a negative dimension");
}

}  // namespace cimsim::frontend
