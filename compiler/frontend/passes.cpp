#include "compiler/frontend/passes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <set>

#include "compiler/frontend/shape_inference.h"
#include "compiler/reference/float_kernels.h"
#include "platform/spec/arch.h"

namespace cimsim::frontend {

namespace {

// Constant folding may create at most this many elements per output beyond what its inputs
// hold (64 MB of float).
constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;
// All folds together may create at most this many elements, or twice what the model stores
// if that is more (QDQ models dequantize every weight by folding). Each fold alone can pass
// the per-output check, so without a total a chain of folds exhausts memory (found by
// fuzz_onnx: 2.7 GB from a few-KB model).
constexpr int64_t kMaxFoldedTotalElements = int64_t{1} << 25;
// All folded MatMul/Gemm/Conv nodes together may do at most this many multiply-adds (a few
// seconds of the reference kernels): small constant inputs can still ask for huge products
// (two 2000 x 2000 constants: 8e9 MACs, 35 s), which the element caps do not bound.
constexpr int64_t kMaxFoldedMacs = int64_t{1} << 31;

using K = ir::OpKind;

// a * b for non-negative sizes, saturating instead of overflowing.
int64_t sat_mul(int64_t a, int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  return a > std::numeric_limits<int64_t>::max() / b ? std::numeric_limits<int64_t>::max() : a * b;
}

ir::QuantParams quant_from(const ir::Graph& g, const ir::Node& n, bool is_unsigned) {
  ir::QuantParams q;
  const ir::Value& s = g.values[n.inputs[1]];
  q.scale = s.data->data;
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    for (float z : g.values[n.inputs[2]].data->data) q.zero_point.push_back(static_cast<int64_t>(z));
  } else {
    q.zero_point.assign(q.scale.size(), 0);
  }
  q.axis = static_cast<int>(n.attr_int("axis", 1));
  q.is_unsigned = is_unsigned;
  q.bits = 8;
  return q;
}

bool same_constant(const ir::Graph& g, int a, int b) {
  if (a == b) return true;
  if (a < 0 || b < 0) return a < 0 && b < 0;
  const ir::Value& va = g.values[a];
  const ir::Value& vb = g.values[b];
  return va.is_constant() && vb.is_constant() && va.data->data == vb.data->data;
}

void make_constant(ir::Value& v, ir::FloatTensor t) {
  t.shape = v.shape;
  if (ir::is_integer(v.dtype)) {
    v.int_data.clear();
    for (float f : t.data) v.int_data.push_back(static_cast<int64_t>(std::llround(f)));
  }
  v.data = std::move(t);
}

// Folds BatchNormalization nodes into the Conv/Gemm that feeds them (see passes.h, step 5).
void fold_batch_norms(ir::Graph& g) {
  std::vector<ir::Node> kept;
  std::vector<bool> drop(g.nodes.size(), false);
  for (size_t bi = 0; bi < g.nodes.size(); ++bi) {
    ir::Node& bn = g.nodes[bi];
    if (bn.kind != K::kBatchNormalization) continue;
    int x = bn.inputs[0];
    int pi = g.producer(x);
    if (pi < 0 || drop[pi]) continue;
    ir::Node& p = g.nodes[pi];
    if (p.kind != K::kConv && p.kind != K::kGemm) continue;
    if (g.is_graph_output(x) || g.consumers(x).size() != 1) continue;
    bool params_const = true;
    for (size_t i = 1; i < 5; ++i) params_const = params_const && g.values[bn.inputs[i]].is_constant();
    for (size_t i = 1; i < p.inputs.size(); ++i)
      if (p.inputs[i] >= 0) params_const = params_const && g.values[p.inputs[i]].is_constant();
    if (!params_const) continue;
    const auto& gamma = g.values[bn.inputs[1]].data->data;
    const auto& beta = g.values[bn.inputs[2]].data->data;
    const auto& mean = g.values[bn.inputs[3]].data->data;
    const auto& var = g.values[bn.inputs[4]].data->data;
    const float eps = bn.attr_float("epsilon", 1e-5f);
    const size_t C = gamma.size();
    std::vector<float> k(C), shift(C);
    for (size_t c = 0; c < C; ++c) {
      k[c] = gamma[c] / std::sqrt(var[c] + eps);
      shift[c] = beta[c] - mean[c] * k[c];
    }
    const ir::Value& wv = g.values[p.inputs[1]];
    ir::Value nw;
    nw.name = wv.name + "_bnfold_" + bn.name;
    nw.shape = wv.shape;
    nw.shape_known = true;
    nw.data = *wv.data;
    ir::Value nb;
    nb.name = bn.name + "_bias_bnfold";
    nb.shape_known = true;
    ir::FloatTensor bias;
    if (p.kind == K::kConv) {
      const int64_t per = wv.numel() / static_cast<int64_t>(C);
      for (size_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < per; ++i) nw.data->data[c * per + i] *= k[c];
      bias.shape = {static_cast<int64_t>(C)};
      bias.data.assign(C, 0.0f);
      if (p.inputs.size() > 2 && p.inputs[2] >= 0) bias.data = g.values[p.inputs[2]].data->data;
      for (size_t c = 0; c < C; ++c) bias.data[c] = bias.data[c] * k[c] + shift[c];
    } else {
      const bool tb = p.attr_int("transB", 0) != 0;
      const int64_t r0 = wv.shape[0], r1 = wv.shape[1];
      for (int64_t i = 0; i < r0; ++i)
        for (int64_t j = 0; j < r1; ++j) nw.data->data[i * r1 + j] *= k[tb ? i : j];
      const std::vector<int64_t>& ys = g.values[p.outputs[0]].shape;
      const int64_t M = ys[0], N = ys[1];
      const float gb = p.attr_float("beta", 1.0f);
      bool full = false;
      const ir::Value* cv = p.inputs.size() > 2 && p.inputs[2] >= 0 ? &g.values[p.inputs[2]] : nullptr;
      if (cv && cv->shape.size() == 2 && cv->shape[0] != 1) full = true;
      int64_t rows = full ? M : 1;
      bias.shape = full ? std::vector<int64_t>{M, N} : std::vector<int64_t>{N};
      bias.data.assign(static_cast<size_t>(rows * N), 0.0f);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < N; ++j) {
          float cval = 0.0f;
          if (cv) {
            const auto& cs = cv->shape;
            int64_t ci = cs.size() == 2 ? (cs[0] == 1 ? 0 : i) : 0;
            int64_t cj = cs.empty() || cs.back() == 1 ? 0 : j;
            int64_t cols = cs.empty() ? 1 : cs.back();
            cval = cv->data->data[ci * cols + cj];
          }
          bias.data[i * N + j] = gb * cval * k[j] + shift[j];
        }
      ir::Attribute one;
      one.kind = ir::Attribute::Kind::kFloat;
      one.f = 1.0f;
      p.attrs["beta"] = one;
    }
    nb.shape = bias.shape;
    nb.data = std::move(bias);
    int wid = g.add_value(std::move(nw));
    int bid = g.add_value(std::move(nb));
    ir::Node& prod = g.nodes[pi];  // re-fetch: add_value does not touch nodes, kept for clarity
    prod.inputs.resize(3);
    prod.inputs[1] = wid;
    prod.inputs[2] = bid;
    prod.outputs[0] = g.nodes[bi].outputs[0];
    drop[bi] = true;
  }
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

void eliminate_dead_nodes(ir::Graph& g) {
  std::vector<bool> live(g.values.size(), false);
  for (int v : g.outputs) live[v] = true;
  std::vector<bool> keep(g.nodes.size(), false);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    for (int o : n.outputs)
      if (o >= 0 && live[o]) keep[i] = true;
    if (keep[i])
      for (int v : n.inputs)
        if (v >= 0) live[v] = true;
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  // Constants nothing reads any more (weights replaced by BN-folded or dequantized copies)
  // would double the memory of large models.
  for (size_t v = 0; v < g.values.size(); ++v)
    if (!live[v] && g.values[v].is_constant()) {
      g.values[v].data.reset();
      g.values[v].int_data.clear();
      g.values[v].int_data.shrink_to_fit();
    }
}

std::string shape_str(const ir::Value& v) {
  return v.shape_known ? shape_to_string(v.shape) : std::string("[?]");
}

std::string quant_str(const ir::Value& v) {
  if (!v.quant) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, " q=%s%g%s", v.quant->scale.size() > 1 ? "per-channel:" : "s:",
                v.quant->scale.empty() ? 0.0 : static_cast<double>(v.quant->scale[0]),
                v.quant->is_unsigned ? ",u8" : ",i8");
  return buf;
}

std::string attr_str(const ir::Node& n) {
  std::string out;
  for (const auto& [key, a] : n.attrs) {
    std::string val;
    switch (a.kind) {
      case ir::Attribute::Kind::kInt: val = std::to_string(a.i); break;
      case ir::Attribute::Kind::kFloat: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", static_cast<double>(a.f));
        val = buf;
        break;
      }
      case ir::Attribute::Kind::kInts: val = shape_to_string(a.ints); break;
      case ir::Attribute::Kind::kFloats: val = "[" + std::to_string(a.floats.size()) + " floats]"; break;
      case ir::Attribute::Kind::kString: val = a.s; break;
    }
    out += (out.empty() ? "" : " ") + key + "=" + val;
  }
  return out;
}

}  // namespace

void simplify(ir::Graph& g) {
  const size_t n0 = g.values.size();
  std::vector<int> alias(n0, -1);
  auto resolve = [&](int v) {
    while (v >= 0 && v < static_cast<int>(alias.size()) && alias[v] >= 0) v = alias[v];
    return v;
  };
  std::vector<int> producer_of(g.values.size(), -1);  // value -> index in g.nodes
  std::vector<bool> keep(g.nodes.size(), false);
  int64_t stored_elements = 0;
  for (const ir::Value& v : g.values)
    if (v.is_constant()) stored_elements += v.numel();
  const int64_t fold_budget = std::max(kMaxFoldedTotalElements, 2 * stored_elements);
  int64_t folded_elements = 0;
  int64_t folded_macs = 0;

  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    ir::Node& n = g.nodes[ni];
    for (int& v : n.inputs) v = resolve(v);
    for (int v : n.inputs) {
      if (v < 0 || g.values[v].shape_known) continue;
      // Every value a node produces got its shape when that node was inferred, so this one
      // is an output the producer lists but its operator does not have (fuzz_onnx: a
      // Concat with two outputs).
      const int p = producer_of[v];
      const std::string by = p >= 0 ? "node '" + g.nodes[p].name + "' (" + g.nodes[p].op_type +
                                          ") lists it as an output, but that operator does not produce it"
                                    : "nothing produces it";
      throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + ") reads '" +
                       g.values[v].name + "': " + by);
    }
    infer_node(g, n);
    for (int o : n.outputs)
      if (o >= 0) producer_of[o] = static_cast<int>(ni);

    if (n.kind == K::kIdentity || n.kind == K::kDropout) {
      alias[n.outputs[0]] = n.inputs[0];
      if (n.outputs.size() > 1 && n.outputs[1] >= 0) {
        ir::Value& mask = g.values[n.outputs[1]];
        ir::FloatTensor ones;
        ones.data.assign(static_cast<size_t>(mask.numel()), 1.0f);
        make_constant(mask, std::move(ones));
      }
      continue;
    }
    if (n.kind == K::kShape) {
      const std::vector<int64_t>& s = g.values[n.inputs[0]].shape;
      ir::FloatTensor t;
      for (int64_t i = n.attr_int("start", 0); i < n.attr_int("end", 0); ++i) t.data.push_back(static_cast<float>(s[i]));
      make_constant(g.values[n.outputs[0]], std::move(t));
      continue;
    }
    bool all_const = !n.inputs.empty();
    for (int v : n.inputs)
      if (v >= 0 && !g.values[v].is_constant()) all_const = false;
    if (n.kind == K::kDequantizeLinear && !all_const) {
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (n.inputs[i] >= 0 && !g.values[n.inputs[i]].is_constant())
          throw InputError(g.source + ": node '" + n.name + "' (DequantizeLinear): scale and zero point must be constant");
      int qi = producer_of[n.inputs[0]];
      if (qi >= 0 && g.nodes[qi].kind == K::kQuantizeLinear) {
        const ir::Node& q = g.nodes[qi];
        int qzp = q.inputs.size() > 2 ? q.inputs[2] : -1;
        int dzp = n.inputs.size() > 2 ? n.inputs[2] : -1;
        if (same_constant(g, q.inputs[1], n.inputs[1]) && same_constant(g, qzp, dzp) &&
            q.attr_int("axis", 1) == n.attr_int("axis", 1)) {
          int x = q.inputs[0];
          g.values[x].quant = quant_from(g, n, g.values[n.inputs[0]].dtype == ir::DType::kUInt8);
          alias[n.outputs[0]] = x;
          continue;
        }
      }
    }
    if (all_const) {
      std::vector<const ir::FloatTensor*> in;
      int64_t in_elements = 0;  // each distinct input once
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        int v = n.inputs[i];
        in.push_back(v >= 0 ? &*g.values[v].data : nullptr);
        if (v >= 0 && std::find(n.inputs.begin(), n.inputs.begin() + i, v) == n.inputs.begin() + i)
          in_elements += g.values[v].numel();
      }
      // Folding must not materialize far more data than the model stores (Concat of one
      // constant many times over, outer products): such a graph is rejected, not allocated.
      for (int v : n.outputs) {
        int64_t out_elements = v >= 0 ? g.values[v].numel() : 0;
        if (out_elements > kMaxFoldedElements && out_elements > in_elements)
          throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + "): folding its constant inputs would create " +
                           std::to_string(out_elements) + " elements from " + std::to_string(in_elements) +
                           "; expected constants stored in the model, not generated");
      }
      // A folded Conv's kernel also needs an im2col scratch of (C/group*kh*kw) x (OH*OW),
      // which the output caps above do not bound.
      if (n.kind == K::kConv && n.inputs.size() >= 2 && n.inputs[1] >= 0 && !n.outputs.empty()) {
        const std::vector<int64_t>& wshape = g.values[n.inputs[1]].shape;
        const std::vector<int64_t>& oshape = g.values[n.outputs[0]].shape;
        int64_t scratch = 1;
        for (size_t d = 1; d < wshape.size(); ++d) scratch = sat_mul(scratch, wshape[d]);
        for (size_t d = 2; d < oshape.size(); ++d) scratch = sat_mul(scratch, oshape[d]);
        if (scratch > kMaxFoldedElements)
          throw InputError(g.source + ": node '" + n.name + "' (Conv): folding its constant inputs would need " +
                           std::to_string(scratch) + " elements of im2col scratch, more than " +
                           std::to_string(kMaxFoldedElements));
      }
      // Multiply-adds per output element: the reduced dimension's length.
      int64_t reduce = 0;
      if ((n.kind == K::kMatMul || n.kind == K::kGemm) && n.inputs.size() >= 2 && n.inputs[0] >= 0) {
        const std::vector<int64_t>& a = g.values[n.inputs[0]].shape;
        if (!a.empty())
          reduce = n.kind == K::kGemm && n.attr_int("transA", 0) != 0 ? a.front() : a.back();
      } else if (n.kind == K::kConv && n.inputs.size() >= 2 && n.inputs[1] >= 0) {
        const std::vector<int64_t>& w = g.values[n.inputs[1]].shape;
        reduce = 1;
        for (size_t d = 1; d < w.size(); ++d) reduce = sat_mul(reduce, w[d]);
      }
      if (reduce > 0 && !n.outputs.empty() && n.outputs[0] >= 0) {
        folded_macs = std::min(std::numeric_limits<int64_t>::max() / 2,
                               folded_macs + sat_mul(g.values[n.outputs[0]].numel(), reduce));
        if (folded_macs > kMaxFoldedMacs)
          throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + "): constant folding would take " +
                           std::to_string(folded_macs) + " multiply-adds in all, more than " +
                           std::to_string(kMaxFoldedMacs) + "; expected weights stored in the model, not computed from constants");
      }
      for (int v : n.outputs) folded_elements += v >= 0 ? g.values[v].numel() : 0;
      if (folded_elements > fold_budget)
        throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + "): constant folding would create " +
                         std::to_string(folded_elements) + " elements in all, more than " +
                         std::to_string(fold_budget) + " (twice the model's stored constants, at least 2^25)");
      std::vector<ir::FloatTensor> out(n.outputs.size());
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i] >= 0) out[i].shape = g.values[n.outputs[i]].shape;
      reference::eval_node(g, n, in, out);
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i] >= 0) make_constant(g.values[n.outputs[i]], std::move(out[i]));
      if (n.kind == K::kDequantizeLinear)
        g.values[n.outputs[0]].quant = quant_from(g, n, g.values[n.inputs[0]].dtype == ir::DType::kUInt8);
      continue;
    }
    keep[ni] = true;
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  for (int& v : g.outputs) v = resolve(v);

  fold_batch_norms(g);
  eliminate_dead_nodes(g);
  g.simplified = true;
}

std::string dump_graph(const ir::Graph& g) {
  std::string out = "graph '" + g.name + "' (opset " + std::to_string(g.opset) + ", " +
                    std::to_string(g.nodes.size()) + " nodes)\n";
  for (int v : g.inputs)
    out += "  input  " + g.values[v].name + " " + shape_str(g.values[v]) + " " + ir::dtype_name(g.values[v].dtype) +
           quant_str(g.values[v]) + "\n";
  for (const ir::Node& n : g.nodes) {
    out += "  " + n.name + ": " + ir::op_name(n.kind) + "(";
    bool first = true;
    for (int v : n.inputs) {
      if (!first) out += ", ";
      first = false;
      if (v < 0) {
        out += "-";
        continue;
      }
      const ir::Value& val = g.values[v];
      out += (val.is_constant() ? "const " : "") + val.name + " " + shape_str(val) + quant_str(val);
    }
    out += ") -> ";
    first = true;
    for (int v : n.outputs) {
      if (v < 0) continue;
      if (!first) out += ", ";
      first = false;
      out += g.values[v].name + " " + shape_str(g.values[v]) + quant_str(g.values[v]);
    }
    std::string attrs = attr_str(n);
    if (!attrs.empty()) out += "  {" + attrs + "}";
    out += "\n";
  }
  for (int v : g.outputs)
    out += "  output " + g.values[v].name + " " + shape_str(g.values[v]) + (g.values[v].is_constant() ? " (constant)" : "") + "\n";
  return out;
}

}  // namespace cimsim::frontend
