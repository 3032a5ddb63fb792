// Helpers for the quantizer tests: build small ONNX-like graphs with the IR structs and run
// frontend::simplify() on them (which infers shapes and normalizes attributes), plus
// deterministic random tensors and error metrics.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "compiler/frontend/graph.h"
#include "compiler/frontend/passes.h"

namespace cimsim::testq {

class GraphBuilder {
 public:
  explicit GraphBuilder(const std::string& name = "test.onnx") {
    g.name = "test";
    g.source = name;
    g.opset = 13;
  }

  int input(const std::string& name, std::vector<int64_t> shape) {
    ir::Value v;
    v.name = name;
    v.shape = std::move(shape);
    v.shape_known = true;
    const int id = g.add_value(v);
    g.inputs.push_back(id);
    return id;
  }

  int constant(const std::string& name, std::vector<int64_t> shape, std::vector<float> data) {
    ir::Value v;
    v.name = name;
    v.shape = shape;
    v.shape_known = true;
    v.data = ir::FloatTensor{std::move(shape), std::move(data)};
    return g.add_value(v);
  }

  // Adds a node with one fresh output value named after the node; returns the output id.
  int node(const std::string& op, const std::string& name, std::vector<int> inputs,
           std::map<std::string, ir::Attribute> attrs = {}) {
    ir::Node n;
    n.kind = *ir::op_from_name(op);
    n.op_type = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    ir::Value out;
    out.name = name + "_out";
    const int o = g.add_value(out);
    n.outputs = {o};
    g.nodes.push_back(n);
    return o;
  }

  ir::Graph finish(std::vector<int> outputs) {
    g.outputs = std::move(outputs);
    frontend::simplify(g);
    return g;
  }

  ir::Graph g;
};

inline ir::Attribute ints(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
inline ir::Attribute i1(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline ir::Attribute f1(float v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  return a;
}

inline std::vector<float> randn(size_t n, uint64_t seed, float sigma = 1.0f) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

inline double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - ref[i]) * (static_cast<double>(a[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

inline double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(std::max(aa * bb, 1e-30));
}

}  // namespace cimsim::testq
