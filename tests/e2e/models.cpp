#include "tests/e2e/models.h"

#include <stdexcept>

namespace e2e {

namespace {

Model conv_stride_pad_dilation() {
  Model m("conv_stride_pad_dilation", {1, 3, 10, 10});
  std::string x = m.relu(m.conv("input", 3, 8, 3, /*stride=*/2, /*pad=*/1));
  m.output(m.conv(x, 8, 8, 3, /*stride=*/1, /*pad=*/2, /*dilation=*/2));
  return m;
}

Model depthwise() {
  Model m("depthwise", {1, 4, 8, 8});
  std::string x = m.relu(m.conv("input", 4, 4, 3, 1, 1, 1, /*group=*/4));
  m.output(m.conv(x, 4, 8, 1));
  return m;
}

Model grouped() {
  Model m("grouped", {1, 4, 8, 8});
  std::string x = m.relu(m.conv("input", 4, 8, 3, 1, 1, 1, /*group=*/2));
  m.output(m.conv(x, 8, 6, 3, 2, 0, 1, /*group=*/2));
  return m;
}

Model fc_after_flatten() {
  Model m("fc_after_flatten", {1, 2, 6, 6});
  std::string x = m.relu(m.conv("input", 2, 4, 3));
  x = m.node("Flatten", {x}, {{"axis!", {1}}});
  m.output(m.gemm(x, 4 * 4 * 4, 10));
  return m;
}

Model max_pool() {
  Model m("max_pool", {1, 3, 8, 8});
  std::string x = m.relu(m.conv("input", 3, 8, 3, 1, 1));
  x = m.node("MaxPool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  // A padded, overlapping window on a signed tensor: padding must never win.
  x = m.conv(x, 8, 4, 1);
  m.output(m.node("MaxPool", {x}, {{"kernel_shape", {3, 3}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}}}));
  return m;
}

Model avg_pool() {
  Model m("avg_pool", {1, 3, 8, 8});
  std::string x = m.conv("input", 3, 6, 3, 1, 1);
  x = m.node("AveragePool", {x},
             {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"pads", {1, 1, 1, 1}},
              {"count_include_pad!", {0}}});
  m.output(m.node("AveragePool", {x},
                  {{"kernel_shape", {2, 2}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}},
                   {"count_include_pad!", {1}}}));
  return m;
}

Model global_avg_pool() {
  Model m("global_avg_pool", {1, 3, 8, 8});
  std::string x = m.relu(m.conv("input", 3, 8, 3, 1, 1));
  x = m.node("GlobalAveragePool", {x});
  x = m.node("Flatten", {x}, {{"axis!", {1}}});
  m.output(m.gemm(x, 8, 5));
  return m;
}

Model residual_add() {
  Model m("residual_add", {1, 4, 6, 6});
  std::string a = m.relu(m.conv("input", 4, 4, 3, 1, 1));
  std::string b = m.conv(a, 4, 4, 3, 1, 1);
  m.output(m.relu(m.node("Add", {"input", b})));
  return m;
}

Model concat() {
  Model m("concat", {1, 3, 6, 6});
  std::string a = m.relu(m.conv("input", 3, 4, 1));
  std::string b = m.conv("input", 3, 4, 3, 1, 1);
  std::string c = m.node("Concat", {a, b}, {{"axis!", {1}}});
  m.output(m.conv(c, 8, 4, 1));
  return m;
}

Model lut_ops() {
  Model m("lut_ops", {1, 3, 6, 6});
  std::string x = m.node("Sigmoid", {m.conv("input", 3, 4, 3, 1, 1)});
  x = m.conv(x, 4, 4, 3, 1, 1);
  m.output(m.node("LeakyRelu", {x}, {}, {{"alpha", 0.1f}}));
  return m;
}

// conv-pool-conv-pool-conv-GAP-FC-Softmax: multi-layer chain with a host softmax at the end.
Model chain() {
  Model m("chain", {1, 3, 12, 12});
  std::string x = m.relu(m.conv("input", 3, 6, 3, 1, 1));
  x = m.node("MaxPool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  x = m.relu(m.conv(x, 6, 8, 3, 1, 1));
  x = m.node("AveragePool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  x = m.relu(m.conv(x, 8, 8, 3, 1, 1));
  x = m.node("GlobalAveragePool", {x});
  x = m.node("Flatten", {x}, {{"axis!", {1}}});
  x = m.gemm(x, 8, 4);
  m.output(m.node("Softmax", {x}, {{"axis!", {1}}}));
  return m;
}

// The same kinds of layers in 4 layers, so that it fits tiny.yaml's 4 cores.
Model chain4() {
  Model m("chain4", {1, 3, 10, 10});
  std::string x = m.relu(m.conv("input", 3, 6, 3, 1, 1));
  x = m.node("MaxPool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  x = m.relu(m.conv(x, 6, 4, 3, 2, 1));
  x = m.node("Flatten", {x}, {{"axis!", {1}}});
  x = m.gemm(x, 4 * 3 * 3, 5);
  m.output(m.node("Softmax", {x}, {{"axis!", {1}}}));
  return m;
}

// BatchNormalization (folded into the conv), Clip(0, 6) (fused ReLU6), Tanh and a scalar Mul
// (lookup tables), a per-channel Mul (affine layer).
Model bn_clip_tanh() {
  Model m("bn_clip_tanh", {1, 3, 6, 6});
  std::string x = m.conv("input", 3, 4, 3, 1, 1);
  std::string scale = m.initializer("bn_scale", {4}, 0.5f);
  std::string bias = m.initializer("bn_bias", {4}, 0.2f);
  std::string mean = m.initializer("bn_mean", {4}, 0.1f);
  std::string var = m.constant("bn_var", {4}, {0.5f, 1.0f, 1.5f, 2.0f});
  x = m.node("BatchNormalization", {x, scale, bias, mean, var}, {}, {{"epsilon", 1e-5f}});
  x = m.node("Clip", {x, m.constant("lo", {}, {0.0f}), m.constant("hi", {}, {6.0f})});
  x = m.node("Tanh", {m.conv(x, 4, 4, 3, 1, 1)});
  x = m.node("Mul", {x, m.constant("k", {}, {1.5f})});
  m.output(m.node("Mul", {x, m.constant("per_channel", {4, 1, 1}, {0.5f, -1.0f, 2.0f, 1.0f})}));
  return m;
}

// 16 -> 16 channels, 3x3: K = 144 rows, five 32-row tiles per column on tiny.yaml, so partial
// sums of several crossbars (and cores) are added.
Model wide_conv() {
  Model m("wide_conv", {1, 16, 6, 6});
  std::string x = m.relu(m.conv("input", 16, 16, 3, 1, 1));
  m.output(m.conv(x, 16, 16, 3, 1, 1));
  return m;
}

}  // namespace

namespace {
std::string clip6(Model& m, const std::string& x) {
  return m.node("Clip", {x, m.constant("lo", {}, {0.0f}), m.constant("hi", {}, {6.0f})});
}
}  // namespace

// Two residual stages (identity skip, then a strided block with a 1x1 projection), GAP, FC,
// softmax: the shape of ResNet-18 at toy size.
Model mini_resnet(int64_t w, int64_t hw) {
  Model m("mini_resnet", {1, 3, hw, hw});
  std::string x = m.relu(m.conv("input", 3, w, 3, 1, 1));
  std::string y = m.relu(m.conv(x, w, w, 3, 1, 1));
  y = m.conv(y, w, w, 3, 1, 1);
  x = m.relu(m.node("Add", {x, y}));
  y = m.relu(m.conv(x, w, 2 * w, 3, 2, 1));
  y = m.conv(y, 2 * w, 2 * w, 3, 1, 1);
  std::string skip = m.conv(x, w, 2 * w, 1, 2, 0);
  x = m.relu(m.node("Add", {skip, y}));
  x = m.node("Flatten", {m.node("GlobalAveragePool", {x})}, {{"axis!", {1}}});
  m.output(m.node("Softmax", {m.gemm(x, 2 * w, 10)}, {{"axis!", {1}}}));
  return m;
}

// MobileNet-style: strided stem, depthwise + pointwise with ReLU6, GAP, FC.
Model mobilenet_block(int64_t w, int64_t hw) {
  Model m("mobilenet_block", {1, 3, hw, hw});
  std::string x = clip6(m, m.conv("input", 3, w, 3, 2, 1));
  x = clip6(m, m.conv(x, w, w, 3, 1, 1, 1, w));
  x = clip6(m, m.conv(x, w, 2 * w, 1));
  x = clip6(m, m.conv(x, 2 * w, 2 * w, 3, 2, 1, 1, 2 * w));
  x = clip6(m, m.conv(x, 2 * w, 2 * w, 1));
  x = m.node("Flatten", {m.node("GlobalAveragePool", {x})}, {{"axis!", {1}}});
  m.output(m.gemm(x, 2 * w, 10));
  return m;
}


const std::vector<ModelCase>& model_zoo() {
  static const std::vector<ModelCase> zoo = {
      {"conv_stride_pad_dilation", conv_stride_pad_dilation, 1, 1},
      {"depthwise", depthwise, 1, 1},
      {"grouped", grouped, 3, 1},
      {"fc_after_flatten", fc_after_flatten, 3, 1},
      {"max_pool", max_pool, 1, 1},
      {"avg_pool", avg_pool, 1, 1},
      {"global_avg_pool", global_avg_pool, 3, 1},
      {"residual_add", residual_add, 3, 1},
      {"concat", concat, 1, 1},
      {"lut_ops", lut_ops, 1, 1},
      {"chain", chain, 3, 7},
      {"chain4", chain4, 3, 1},
      {"bn_clip_tanh", bn_clip_tanh, 1, 5},
      {"wide_conv", wide_conv, 1, 1},
      {"mini_resnet", [] { return mini_resnet(16, 16); }, 3, 10},
      {"mobilenet_block", [] { return mobilenet_block(16, 16); }, 3, 7},
  };
  return zoo;
}

const ModelCase& find_model(const std::string& name) {
  for (const auto& c : model_zoo())
    if (c.name == name) return c;
  throw std::runtime_error("no model " + name);
}

ModelFiles write_model(const ModelCase& c, const std::string& dir, uint32_t input_seed) {
  Model m = c.build();
  ModelFiles f{dir + "/" + c.name + ".onnx", dir + "/" + c.name + "_input.npy"};
  m.save(f.model);
  Tensor x;
  x.shape = m.input_shape();
  x.shape[0] = c.batch;
  int64_t n = 1;
  for (int64_t d : x.shape) n *= d;
  x.data = random_data(static_cast<size_t>(n), input_seed);
  write_npy(f.input, x);
  return f;
}

}  // namespace e2e
