#include "compiler/quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "compiler/quant/calibration.h"

namespace cimsim::quant {

namespace {

constexpr int64_t kInt32Limit = int64_t{1} << 31;

// q::ConvParams and q::PoolParams name their window fields alike; one copy serves both.
template <class Params>
void copy_window(const ir::WindowParams& w, Params* p) {
  p->kernel_h = w.kernel_h;
  p->kernel_w = w.kernel_w;
  p->stride_h = w.stride_h;
  p->stride_w = w.stride_w;
  p->pad_top = w.pad_top;
  p->pad_left = w.pad_left;
  p->pad_bottom = w.pad_bottom;
  p->pad_right = w.pad_right;
  p->dilation_h = w.dilation_h;
  p->dilation_w = w.dilation_w;
}

class Builder {
 public:
  Builder(const ir::Graph& g, const QuantSpec& spec, const std::vector<float>& max_abs)
      : g_(g), spec_(spec), max_abs_(max_abs), tensor_of_(g.values.size(), -1), fused_(g.nodes.size(), false) {}

  q::QModel build() {
    m_.name = g_.name;
    m_.weight_bits = spec_.weight_bits;
    m_.activation_bits = spec_.activation_bits;
    if (max_abs_.size() != g_.values.size())
      throw InputError(prefix() + "activation statistics do not match the graph's values");
    for (int v : g_.inputs) {
      const int t = new_tensor(v, false);
      m_.inputs.push_back(t);
    }
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      if (!fused_[i]) lower(static_cast<int>(i));
    for (int v : g_.outputs) {
      const int t = tensor_of_[v];
      if (t < 0) throw InputError(prefix() + "graph output '" + g_.values[v].name + "' is not computed by any layer");
      m_.outputs.push_back(t);
      m_.output_host_softmax.push_back(softmax_outputs_.count(v) != 0);
    }
    return std::move(m_);
  }

 private:
  // ----- messages -----
  std::string prefix() const { return (g_.source.empty() ? std::string("model") : g_.source) + ": "; }
  std::string at(const ir::Node& n) const { return prefix() + "node '" + n.name + "' (" + n.op_type + "): "; }
  [[noreturn]] void fail(const ir::Node& n, const std::string& what) const { throw InputError(at(n) + what); }

  // ----- tensors -----
  std::vector<int64_t> act_shape(int v) const {
    const std::vector<int64_t>& s = g_.values[v].shape;
    if (s.empty()) return {1};
    std::vector<int64_t> r = s;
    if (s.size() >= 2) {
      if (s[0] != 1)
        throw InputError(prefix() + "value '" + g_.values[v].name + "' has batch dimension " + std::to_string(s[0]) +
                         "; the quantized path expects a leading batch dimension of 1");
      r.erase(r.begin());
    }
    if (r.size() != 3 && r.size() != 1) {
      int64_t n = 1;
      for (int64_t d : r) n *= d;
      r = {n};
    }
    return r;
  }

  const ir::QuantParams* qdq(int v, const ir::Node* n) const {
    const ir::Value& val = g_.values[v];
    if (!val.quant) return nullptr;
    for (int64_t z : val.quant->zero_point)
      if (z != 0) {
        const std::string where = n ? at(*n) : prefix();
        throw InputError(where + "value '" + val.name + "' has zero point " + std::to_string(z) +
                         "; only symmetric quantization (zero point 0) is supported");
      }
    return &*val.quant;
  }

  // Creates the QTensor of activation value v; scale from QDQ params or max|x| / qmax.
  int new_tensor(int v, bool is_unsigned, const ir::Node* n = nullptr, float fixed_max = 0.0f) {
    q::QTensor t;
    t.name = g_.values[v].name;
    t.shape = act_shape(v);
    t.bits = spec_.activation_bits;
    t.is_unsigned = is_unsigned;
    if (const ir::QuantParams* qp = qdq(v, n)) {
      if (qp->scale.size() != 1 || !(qp->scale[0] > 0))
        throw InputError((n ? at(*n) : prefix()) + "activation '" + t.name +
                         "' needs one positive per-tensor scale in the quantized path");
      t.scale = qp->scale[0];
      t.is_unsigned = qp->is_unsigned || is_unsigned;
    } else {
      const float mx = fixed_max > 0.0f ? fixed_max : max_abs_[v];
      t.scale = (std::isfinite(mx) && mx > 0.0f) ? mx / static_cast<float>(t.qmax()) : 1.0f;
    }
    m_.tensors.push_back(t);
    const int id = static_cast<int>(m_.tensors.size()) - 1;
    tensor_of_[v] = id;
    return id;
  }

  // Tensor sharing `src`'s codes and scale, with v's shape (pools, reshapes).
  int alias_tensor(int v, int src) {
    q::QTensor t = m_.tensors[src];
    t.name = g_.values[v].name;
    t.shape = act_shape(v);
    m_.tensors.push_back(t);
    const int id = static_cast<int>(m_.tensors.size()) - 1;
    tensor_of_[v] = id;
    return id;
  }

  int input_tensor(const ir::Node& n, int v) const {
    if (v < 0 || g_.values[v].is_constant()) fail(n, "expected an activation input, got a constant");
    if (tensor_of_[v] < 0) fail(n, "input '" + g_.values[v].name + "' has not been quantized");
    return tensor_of_[v];
  }

  const ir::FloatTensor& constant(const ir::Node& n, int v, const char* what) const {
    if (v < 0 || !g_.values[v].is_constant())
      fail(n, std::string(what) + " must be a constant in the quantized path");
    return *g_.values[v].data;
  }

  // ----- layers -----
  // Appends a layer and returns its index (references into m_.layers do not survive appends).
  int add_layer(const ir::Node& n, q::LayerKind kind, std::vector<int> inputs) {
    q::Layer L;
    L.name = n.name;
    L.kind = kind;
    L.inputs = std::move(inputs);
    m_.layers.push_back(std::move(L));
    return static_cast<int>(m_.layers.size()) - 1;
  }

  // If the single consumer of `n`'s output is a Relu or a Clip whose bounds the output code
  // range expresses exactly, marks it fused and returns its node index.
  int fusable_activation(const ir::Node& n) {
    const int out = n.outputs[0];
    if (g_.is_graph_output(out)) return -1;
    const std::vector<int> cons = g_.consumers(out);
    if (cons.size() != 1) return -1;
    const ir::Node& c = g_.nodes[cons[0]];
    if (c.kind == ir::OpKind::kRelu) return cons[0];
    if (c.kind == ir::OpKind::kClip && c.attr_float("min", -INFINITY) == 0.0f) return cons[0];
    return -1;
  }

  // Output tensor of a requantizing layer (Conv, Add), with its fused activation if any.
  int output_with_activation(const ir::Node& n, q::Layer& L) {
    const int act = fusable_activation(n);
    if (act < 0) return new_tensor(n.outputs[0], false, &n);
    const ir::Node& a = g_.nodes[act];
    fused_[act] = true;
    L.fused.push_back(a.name);
    float fixed_max = 0.0f;
    if (a.kind == ir::OpKind::kClip) {
      const float hi = a.attr_float("max", INFINITY);
      // The clip's upper bound becomes the top code exactly, so clamping to qmax is the clip.
      if (std::isfinite(hi)) fixed_max = hi;
      if (!(hi > 0.0f)) fixed_max = 1.0f;
    }
    return new_tensor(a.outputs[0], true, &a, fixed_max);
  }

  // Weight codes and scales for a [M][K] real weight matrix (or QDQ codes as they are).
  void quantize_weights(const ir::Node& n, const std::vector<float>& w, int64_t M, int64_t K, int weight_value,
                        float alpha, q::ConvParams& p) {
    const int32_t wq = qmath::weight_qmax(spec_.weight_bits);
    p.weights.assign(M * K, 0);
    p.weight_scale.assign(M, 1.0f);
    const ir::QuantParams* qp = weight_value >= 0 ? qdq(weight_value, &n) : nullptr;
    if (qp && qp->bits <= spec_.weight_bits && alpha > 0.0f &&
        (qp->scale.size() == 1 || static_cast<int64_t>(qp->scale.size()) == M)) {
      const bool codes_stored = ir::is_integer(g_.values[weight_value].dtype);
      for (int64_t m = 0; m < M; ++m) {
        const float s = qp->scale.size() == 1 ? qp->scale[0] : qp->scale[m];
        p.weight_scale[m] = s * alpha;
        for (int64_t k = 0; k < K; ++k) {
          // w holds alpha * s * code (dequantized) or alpha * code (integer-typed): recover the code.
          const long c = std::lround(w[m * K + k] / (codes_stored ? alpha : p.weight_scale[m]));
          p.weights[m * K + k] = static_cast<int8_t>(std::clamp<long>(c, -wq, wq));
        }
      }
      return;
    }
    const bool per_channel = spec_.weight_granularity == QuantGranularity::kPerChannel;
    float tensor_max = 0.0f;
    for (float x : w) tensor_max = std::max(tensor_max, std::fabs(x));
    for (int64_t m = 0; m < M; ++m) {
      float mx = tensor_max;
      if (per_channel) {
        mx = 0.0f;
        for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(w[m * K + k]));
      }
      if (!std::isfinite(mx)) fail(n, "weights contain a non-finite value");
      // An all-zero channel keeps scale 0 here; its scale is chosen with the bias later.
      p.weight_scale[m] = mx > 0.0f ? mx / static_cast<float>(wq) : 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const long c = p.weight_scale[m] > 0.0f ? std::lround(w[m * K + k] / p.weight_scale[m]) : 0;
        p.weights[m * K + k] = static_cast<int8_t>(std::clamp<long>(c, -wq, wq));
      }
    }
  }

  // Bias codes, requant multipliers and the int32 accumulator check for a conv layer.
  void finish_conv(const ir::Node& n, q::Layer& L, const std::vector<float>& bias) {
    q::ConvParams& p = L.conv;
    const q::QTensor& in = m_.tensors[L.inputs[0]];
    const q::QTensor& out = m_.tensors[L.output];
    const int64_t M = p.out_channels, K = static_cast<int64_t>(p.weights.size()) / M;
    const double s_in = in.scale, s_out = out.scale;
    const int64_t x_max = std::max(std::abs(in.qmin()), std::abs(in.qmax()));
    p.bias.assign(M, 0);
    p.requant.resize(M);
    for (int64_t m = 0; m < M; ++m) {
      // All-zero channel: any scale gives codes 0; pick one that makes the bias unit s_out/256.
      if (!(p.weight_scale[m] > 0.0f)) p.weight_scale[m] = static_cast<float>(s_out / s_in / 256.0);
      const double unit = s_in * static_cast<double>(p.weight_scale[m]);
      const double b = std::round(static_cast<double>(bias[m]) / unit);
      if (!std::isfinite(b) || std::fabs(b) >= static_cast<double>(kInt32Limit))
        fail(n, "bias of output channel " + std::to_string(m) + " does not fit int32 at scale " + std::to_string(unit));
      p.bias[m] = static_cast<int32_t>(b);
      int64_t acc = std::llabs(static_cast<int64_t>(p.bias[m]));
      for (int64_t k = 0; k < K; ++k) acc += std::abs(static_cast<int32_t>(p.weights[m * K + k])) * x_max;
      if (acc >= kInt32Limit)
        fail(n, "the int32 accumulator of output channel " + std::to_string(m) + " may overflow (worst case " +
                    std::to_string(acc) + " >= 2^31); reduce weight_bits or activation_bits");
      p.requant[m] = requant_multiplier(unit / s_out, spec_.requant_shift_max);
    }
  }

  void lower_conv(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    const ir::FloatTensor& W = constant(n, n.inputs.size() > 1 ? n.inputs[1] : -1, "the weight");
    if (m_.tensors[x].shape.size() != 3 || W.shape.size() != 4)
      fail(n, "only 2-D convolutions on {C,H,W} tensors are supported in the quantized path");
    const ir::WindowParams w = ir::window_params(n);
    const int li = add_layer(n, q::LayerKind::kConv, {x});
    q::ConvParams& p = m_.layers[li].conv;
    p.out_channels = W.shape[0];
    p.in_channels = m_.tensors[x].shape[0];
    copy_window(w, &p);
    p.group = w.group;
    if (p.group <= 0 || p.in_channels % p.group != 0 || p.out_channels % p.group != 0 ||
        W.shape[1] != p.in_channels / p.group || W.shape[2] != p.kernel_h || W.shape[3] != p.kernel_w)
      fail(n, "weight shape does not match the input channels, group and kernel");
    const int64_t M = p.out_channels, K = W.numel() / M;
    quantize_weights(n, W.data, M, K, n.inputs[1], 1.0f, p);
    std::vector<float> bias(M, 0.0f);
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const ir::FloatTensor& B = constant(n, n.inputs[2], "the bias");
      if (B.numel() != M) fail(n, "bias has " + std::to_string(B.numel()) + " elements, expected " + std::to_string(M));
      bias = B.data;
    }
    const int out = output_with_activation(n, m_.layers[li]);
    m_.layers[li].output = out;
    finish_conv(n, m_.layers[li], bias);
  }

  // Gemm (transB, alpha, beta, constant B and C) and MatMul with a constant right operand.
  void lower_fc(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    const bool gemm = n.kind == ir::OpKind::kGemm;
    const ir::FloatTensor& B = constant(n, n.inputs.size() > 1 ? n.inputs[1] : -1, "the right operand (weights)");
    if (gemm && n.attr_int("transA", 0) != 0) fail(n, "transA = 1 is not supported in the quantized path");
    const bool trans_b = gemm && n.attr_int("transB", 0) != 0;
    const float alpha = gemm ? n.attr_float("alpha", 1.0f) : 1.0f;
    const float beta = gemm ? n.attr_float("beta", 1.0f) : 1.0f;
    if (B.shape.size() != 2) fail(n, "the weight operand must be 2-D");
    const int64_t K = trans_b ? B.shape[1] : B.shape[0];
    const int64_t N = trans_b ? B.shape[0] : B.shape[1];
    if (m_.tensors[x].numel() != K)
      fail(n, "input has " + std::to_string(m_.tensors[x].numel()) + " features, weights expect " + std::to_string(K));
    std::vector<float> w(N * K);
    for (int64_t o = 0; o < N; ++o)
      for (int64_t k = 0; k < K; ++k) w[o * K + k] = alpha * (trans_b ? B.data[o * K + k] : B.data[k * N + o]);
    std::vector<float> bias(N, 0.0f);
    if (gemm && n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const ir::FloatTensor& C = constant(n, n.inputs[2], "the Gemm C operand");
      if (C.numel() != N && C.numel() != 1)
        fail(n, "C must have one element or one per output feature (" + std::to_string(N) + ")");
      for (int64_t o = 0; o < N; ++o) bias[o] = beta * C.data[C.numel() == 1 ? 0 : o];
    }
    const int li = add_layer(n, q::LayerKind::kConv, {x});
    q::ConvParams& p = m_.layers[li].conv;
    p.is_fc = true;
    p.in_channels = K;
    p.out_channels = N;
    quantize_weights(n, w, N, K, n.inputs[1], alpha, p);
    const int out = output_with_activation(n, m_.layers[li]);
    m_.layers[li].output = out;
    if (m_.tensors[out].numel() != N) fail(n, "output shape does not have " + std::to_string(N) + " features");
    finish_conv(n, m_.layers[li], bias);
  }

  // Per-channel affine y = x * a[c] + b[c] as a depthwise 1x1 conv (BN that could not be folded,
  // Mul/Add/Sub/Div by a per-channel constant).
  void lower_channel_affine(const ir::Node& n, int x, const std::vector<float>& a, const std::vector<float>& b) {
    const int64_t C = static_cast<int64_t>(a.size());
    const int li = add_layer(n, q::LayerKind::kConv, {x});
    q::ConvParams& p = m_.layers[li].conv;
    p.in_channels = p.out_channels = p.group = C;
    quantize_weights(n, a, C, 1, -1, 1.0f, p);
    const int out = output_with_activation(n, m_.layers[li]);
    m_.layers[li].output = out;
    finish_conv(n, m_.layers[li], b);
  }

  // Per-channel constant for a {C,H,W} (or {F}) activation: numel C with every other dim 1,
  // aligned to the channel axis. Returns false when it is not of that form.
  bool channel_vector(const ir::FloatTensor& c, const q::QTensor& t, std::vector<float>& out) const {
    const int64_t C = t.shape[0];
    if (c.numel() != C) return false;
    // Dims after the channel axis (in the broadcast, right-aligned) must all be 1.
    const size_t trailing = t.shape.size() - 1;
    int64_t after = 1;
    for (size_t i = 0; i < std::min(trailing, c.shape.size()); ++i) after *= c.shape[c.shape.size() - 1 - i];
    if (after != 1) return false;
    if (c.shape.size() <= trailing && C != 1) return false;
    out = c.data;
    return true;
  }

  void lower_lut(const ir::Node& n, int x, const std::function<double(double)>& f) {
    const q::QTensor in = m_.tensors[x];
    const int32_t levels = in.qmax() - in.qmin() + 1;
    std::vector<double> fx(levels);
    double lo = INFINITY;
    for (int32_t i = 0; i < levels; ++i) {
      fx[i] = f(static_cast<double>(qmath::dequantize_value(in.qmin() + i, in.scale)));
      if (!std::isnan(fx[i])) lo = std::min(lo, fx[i]);
    }
    const int li = add_layer(n, q::LayerKind::kLut, {x});
    const int out = new_tensor(n.outputs[0], lo >= 0.0, &n);
    q::Layer& L = m_.layers[li];
    L.output = out;
    const q::QTensor& o = m_.tensors[out];
    L.lut.resize(levels);
    for (int32_t i = 0; i < levels; ++i)
      L.lut[i] = qmath::quantize_value(static_cast<float>(fx[i]), o.scale, o.qmin(), o.qmax());
  }

  void lower_binary(const ir::Node& n) {
    const int a = n.inputs[0], b = n.inputs[1];
    const bool ca = g_.values[a].is_constant(), cb = g_.values[b].is_constant();
    if (!ca && !cb) {
      if (n.kind == ir::OpKind::kMul || n.kind == ir::OpKind::kDiv)
        fail(n, std::string(n.op_type) + " of two activations is not supported in the quantized path");
      const int ta = input_tensor(n, a), tb = input_tensor(n, b);
      if (m_.tensors[ta].shape != m_.tensors[tb].shape || g_.values[a].shape != g_.values[b].shape)
        fail(n, "broadcasting " + n.op_type + " of two tensors is not supported in the quantized path");
      const int li = add_layer(n, q::LayerKind::kAdd, {ta, tb});
      const int out = output_with_activation(n, m_.layers[li]);
      m_.layers[li].output = out;
      try {
        m_.layers[li].add = add_params(m_.tensors[ta].scale, m_.tensors[tb].scale, m_.tensors[out].scale,
                                       n.kind == ir::OpKind::kSub, spec_.requant_shift_max);
      } catch (const InputError& e) {
        fail(n, e.what());  // add_params knows no node; name it (and the model file)
      }
      return;
    }
    if (ca && cb) fail(n, "both operands are constant (the graph was not simplified)");
    const bool const_first = ca;
    const int xv = const_first ? b : a;
    const int x = input_tensor(n, xv);
    const ir::FloatTensor& c = *g_.values[const_first ? a : b].data;
    if (c.numel() == 1) {
      const double k = c.data[0];
      std::function<double(double)> f;
      switch (n.kind) {
        case ir::OpKind::kAdd: f = [k](double v) { return v + k; }; break;
        case ir::OpKind::kSub: f = const_first ? std::function<double(double)>([k](double v) { return k - v; })
                                               : std::function<double(double)>([k](double v) { return v - k; });
          break;
        case ir::OpKind::kMul: f = [k](double v) { return v * k; }; break;
        default: f = const_first ? std::function<double(double)>([k](double v) { return k / v; })
                                 : std::function<double(double)>([k](double v) { return v / k; });
      }
      lower_lut(n, x, f);
      return;
    }
    std::vector<float> cv;
    if (!channel_vector(c, m_.tensors[x], cv) || g_.values[n.outputs[0]].shape != g_.values[xv].shape)
      fail(n, "broadcasting " + n.op_type + " with a constant of shape " + shape_str(c.shape) +
                  " is not supported in the quantized path (only scalars and per-channel constants)");
    std::vector<float> scale(cv.size(), 1.0f), shift(cv.size(), 0.0f);
    for (size_t i = 0; i < cv.size(); ++i) {
      switch (n.kind) {
        case ir::OpKind::kAdd: shift[i] = cv[i]; break;
        case ir::OpKind::kSub:
          if (const_first) {
            scale[i] = -1.0f;
            shift[i] = cv[i];
          } else {
            shift[i] = -cv[i];
          }
          break;
        case ir::OpKind::kMul: scale[i] = cv[i]; break;
        default:
          if (const_first) fail(n, "dividing a per-channel constant by an activation is not supported");
          scale[i] = 1.0f / cv[i];
      }
    }
    lower_channel_affine(n, x, scale, shift);
  }

  static std::string shape_str(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + "]";
  }

  void lower_batchnorm(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    const ir::FloatTensor& sc = constant(n, n.inputs[1], "scale");
    const ir::FloatTensor& bi = constant(n, n.inputs[2], "B");
    const ir::FloatTensor& mean = constant(n, n.inputs[3], "mean");
    const ir::FloatTensor& var = constant(n, n.inputs[4], "var");
    const double eps = n.attr_float("epsilon", 1e-5f);
    const int64_t C = m_.tensors[x].shape[0];
    if (sc.numel() != C || bi.numel() != C || mean.numel() != C || var.numel() != C)
      fail(n, "parameters must have one element per channel");
    std::vector<float> a(C), b(C);
    for (int64_t c = 0; c < C; ++c) {
      a[c] = static_cast<float>(sc.data[c] / std::sqrt(static_cast<double>(var.data[c]) + eps));
      b[c] = bi.data[c] - a[c] * mean.data[c];
    }
    lower_channel_affine(n, x, a, b);
  }

  void lower_pool(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    const q::QTensor in = m_.tensors[x];
    if (in.shape.size() != 3) fail(n, "pools need a {C,H,W} input in the quantized path");
    q::PoolParams p;
    if (n.kind == ir::OpKind::kGlobalAveragePool) {
      p.kernel_h = in.shape[1];
      p.kernel_w = in.shape[2];
    } else {
      const ir::WindowParams w = ir::window_params(n);
      copy_window(w, &p);
      p.count_include_pad = w.count_include_pad;
    }
    const bool is_max = n.kind == ir::OpKind::kMaxPool;
    if (is_max && n.outputs.size() > 1 && n.outputs[1] >= 0 && !g_.consumers(n.outputs[1]).empty())
      fail(n, "MaxPool indices output is not supported");
    const int li = add_layer(n, is_max ? q::LayerKind::kMaxPool : q::LayerKind::kAvgPool, {x});
    const int out = is_max ? alias_tensor(n.outputs[0], x) : new_tensor(n.outputs[0], in.is_unsigned, &n);
    m_.layers[li].output = out;
    if (!is_max) {
      const int64_t window = p.kernel_h * p.kernel_w;
      p.avg_multiplier.resize(window + 1);
      for (int64_t c = 1; c <= window; ++c)
        p.avg_multiplier[c] = requant_multiplier(static_cast<double>(in.scale) /
                                                     (static_cast<double>(m_.tensors[out].scale) * c),
                                                 spec_.requant_shift_max);
    }
    m_.layers[li].pool = p;
  }

  void lower_concat(const ir::Node& n) {
    const int rank = static_cast<int>(g_.values[n.outputs[0]].shape.size());
    int64_t axis = n.attr_int("axis", 1);
    if (axis < 0) axis += rank;
    if (axis != 1) fail(n, "only channel concatenation (axis 1) is supported in the quantized path");
    std::vector<int> ins;
    bool all_unsigned = true;
    for (int v : n.inputs) {
      ins.push_back(input_tensor(n, v));
      all_unsigned = all_unsigned && m_.tensors[ins.back()].is_unsigned;
    }
    const int li = add_layer(n, q::LayerKind::kConcat, ins);
    const int out = new_tensor(n.outputs[0], all_unsigned, &n);
    m_.layers[li].output = out;
    const q::QTensor& o = m_.tensors[out];
    for (int t : ins) {
      const q::QTensor& in = m_.tensors[t];
      std::vector<int32_t> lut(in.qmax() - in.qmin() + 1);
      for (int32_t i = 0; i < static_cast<int32_t>(lut.size()); ++i) {
        const int32_t code = in.qmin() + i;
        lut[i] = in.scale == o.scale ? qmath::clamp_i32(code, o.qmin(), o.qmax())
                                     : qmath::quantize_value(qmath::dequantize_value(code, in.scale), o.scale,
                                                             o.qmin(), o.qmax());
      }
      m_.layers[li].lut_per_input.push_back(std::move(lut));
    }
  }

  void lower_reshape(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    if (n.kind == ir::OpKind::kTranspose) {
      const std::vector<int64_t>& s = g_.values[n.inputs[0]].shape;
      std::vector<int64_t> perm = n.attr_ints("perm");
      if (perm.empty())
        for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) perm.push_back(i);
      // A permutation that keeps the order of the dims larger than 1 moves no data.
      int64_t last = -1;
      for (int64_t d : perm) {
        if (d < 0 || d >= static_cast<int64_t>(s.size())) fail(n, "invalid perm");
        if (s[d] == 1) continue;
        if (d < last) fail(n, "Transpose that moves data is not supported in the quantized path");
        last = d;
      }
    }
    if (g_.values[n.outputs[0]].numel() != g_.values[n.inputs[0]].numel()) fail(n, "reshape changes the element count");
    const int li = add_layer(n, q::LayerKind::kReshape, {x});
    m_.layers[li].output = alias_tensor(n.outputs[0], x);
  }

  void lower_softmax(const ir::Node& n) {
    const int v = n.outputs[0];
    if (!g_.is_graph_output(v) || !g_.consumers(v).empty())
      fail(n, "Softmax is only supported as a final graph output (it runs in float on the host)");
    const int x = input_tensor(n, n.inputs[0]);
    const std::vector<int64_t>& s = g_.values[n.inputs[0]].shape;
    int64_t axis = n.attr_int("axis", -1);
    if (axis < 0) axis += static_cast<int64_t>(s.size());
    const bool coerce = n.attr_int("coerce_2d", 0) != 0;
    // The host normalizes over the channel axis at every pixel of a {C,H,W} tensor and over
    // all values of an {F} tensor; the Softmax must be exactly that (dims of size 1 aside).
    const bool chw = m_.tensors[x].shape.size() == 3;
    for (int64_t d = 1; d < static_cast<int64_t>(s.size()); ++d) {
      const bool in_softmax = coerce ? d >= axis : d == axis;
      const bool wanted = chw ? d == 1 : true;
      if (s[d] != 1 && in_softmax != wanted)
        fail(n, chw ? "Softmax on a {C,H,W} tensor must be over the channel axis only (it runs on the host)"
                    : "Softmax must cover every non-batch dimension (it runs on the host over one image)");
    }
    if (axis == 0 && s.size() > 0 && s[0] != 1) fail(n, "Softmax over the batch dimension is not supported");
    tensor_of_[v] = x;
    softmax_outputs_.insert(std::make_pair(v, true));
  }

  void lower_activation(const ir::Node& n) {
    const int x = input_tensor(n, n.inputs[0]);
    switch (n.kind) {
      case ir::OpKind::kRelu: lower_lut(n, x, [](double v) { return v > 0.0 ? v : 0.0; }); break;
      case ir::OpKind::kClip: {
        const double lo = n.attr_float("min", -INFINITY), hi = n.attr_float("max", INFINITY);
        lower_lut(n, x, [lo, hi](double v) { return std::min(std::max(v, lo), hi); });
        break;
      }
      case ir::OpKind::kLeakyRelu: {
        const double alpha = n.attr_float("alpha", 0.01f);
        lower_lut(n, x, [alpha](double v) { return v >= 0.0 ? v : alpha * v; });
        break;
      }
      case ir::OpKind::kSigmoid: lower_lut(n, x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }); break;
      default: lower_lut(n, x, [](double v) { return std::tanh(v); });
    }
  }

  // A Q/DQ pair that simplify() could not remove (e.g. Q read by several DQs) changes the
  // representation, not the value: both outputs share the input's codes. A Q whose codes
  // would reach anything but a DQ (or a DQ of raw integer data) would change values.
  void lower_qdq(const ir::Node& n) {
    const int in = n.inputs[0];
    if (n.kind == ir::OpKind::kQuantizeLinear) {
      bool only_dq = !g_.is_graph_output(n.outputs[0]);
      for (int c : g_.consumers(n.outputs[0])) only_dq = only_dq && g_.nodes[c].kind == ir::OpKind::kDequantizeLinear;
      if (!only_dq) fail(n, "QuantizeLinear whose codes are used without a DequantizeLinear is not supported");
    } else {
      const int p = g_.producer(in);
      if (p < 0 || g_.nodes[p].kind != ir::OpKind::kQuantizeLinear)
        fail(n, "DequantizeLinear of an activation not produced by QuantizeLinear is not supported");
    }
    tensor_of_[n.outputs[0]] = input_tensor(n, in);
  }

  void lower(int i) {
    const ir::Node& n = g_.nodes[i];
    switch (n.kind) {
      case ir::OpKind::kConv: lower_conv(n); break;
      case ir::OpKind::kGemm:
      case ir::OpKind::kMatMul: lower_fc(n); break;
      case ir::OpKind::kAdd:
      case ir::OpKind::kSub:
      case ir::OpKind::kMul:
      case ir::OpKind::kDiv: lower_binary(n); break;
      case ir::OpKind::kBatchNormalization: lower_batchnorm(n); break;
      case ir::OpKind::kRelu:
      case ir::OpKind::kClip:
      case ir::OpKind::kLeakyRelu:
      case ir::OpKind::kSigmoid:
      case ir::OpKind::kTanh: lower_activation(n); break;
      case ir::OpKind::kMaxPool:
      case ir::OpKind::kAveragePool:
      case ir::OpKind::kGlobalAveragePool: lower_pool(n); break;
      case ir::OpKind::kConcat: lower_concat(n); break;
      case ir::OpKind::kFlatten:
      case ir::OpKind::kReshape:
      case ir::OpKind::kSqueeze:
      case ir::OpKind::kUnsqueeze:
      case ir::OpKind::kTranspose: lower_reshape(n); break;
      case ir::OpKind::kSoftmax: lower_softmax(n); break;
      case ir::OpKind::kQuantizeLinear:
      case ir::OpKind::kDequantizeLinear: lower_qdq(n); break;
      default: fail(n, "operator is not supported in the quantized path");
    }
  }

  const ir::Graph& g_;
  QuantSpec spec_;
  const std::vector<float>& max_abs_;
  q::QModel m_;
  std::vector<int> tensor_of_;
  std::vector<bool> fused_;
  std::map<int, bool> softmax_outputs_;
};

}  // namespace

qmath::QuantizedMultiplier requant_multiplier(double m, int shift_max) {
  qmath::QuantizedMultiplier q = qmath::quantize_multiplier(m);
  shift_max = std::clamp(shift_max, 0, 62);
  if (q.multiplier != 0 && q.shift > shift_max) {
    q.multiplier = static_cast<int32_t>(std::llround(std::ldexp(m, shift_max)));
    q.shift = shift_max;
  }
  return q;
}

q::AddParams add_params(double s_a, double s_b, double s_out, bool subtract, int shift_max) {
  const double ra = s_a / s_out, rb = s_b / s_out;
  const double limit = static_cast<double>(int64_t{1} << 30);
  q::AddParams p;
  for (int s = std::clamp(shift_max, 0, 62); s >= 0; --s) {
    const double ma = std::round(std::ldexp(ra, s)), mb = std::round(std::ldexp(rb, s));
    if (ma < limit && mb < limit) {
      p.mult_a = static_cast<int32_t>(ma);
      p.mult_b = static_cast<int32_t>(subtract ? -mb : mb);
      p.add_shift = s;
      return p;
    }
  }
  throw InputError("add: scale ratio " + std::to_string(std::max(ra, rb)) + " is too large to requantize");
}

q::QModel quantize_with_ranges(const ir::Graph& g, const QuantSpec& spec, const std::vector<float>& max_abs) {
  return Builder(g, spec, max_abs).build();
}

q::QModel quantize(const ir::Graph& g, const QuantSpec& spec, const std::vector<ir::FloatTensor>& calibration) {
  const std::vector<float> max_abs =
      calibration_max_abs(g, calibration.empty() ? default_calibration(g) : calibration);
  return quantize_with_ranges(g, spec, max_abs);
}

}  // namespace cimsim::quant
