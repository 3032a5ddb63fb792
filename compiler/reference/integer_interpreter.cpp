#include "compiler/reference/integer_interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "platform/spec/arch.h"

namespace cimsim::reference {

namespace {

using Codes = std::vector<int32_t>;

[[noreturn]] void fail(const q::QModel& m, const std::string& what) {
  throw InputError((m.name.empty() ? std::string("model") : m.name) + ": " + what);
}

// Spatial view of a tensor shape: {C,H,W} as is, {F} as {F,1,1}.
struct Chw {
  int64_t c = 1, h = 1, w = 1;
};
Chw chw_of(const q::QTensor& t) {
  Chw s;
  if (t.shape.size() == 3) {
    s.c = t.shape[0];
    s.h = t.shape[1];
    s.w = t.shape[2];
  } else {
    s.c = t.numel();
  }
  return s;
}

int32_t max_abs_code(const q::QTensor& t) { return std::max(std::abs(t.qmin()), std::abs(t.qmax())); }

// Products are exact in int32 when every channel's worst case sum |w|*max|x| + |bias| fits;
// the quantizer guarantees it, but a hand-made model may not, so int64 is used then.
bool fits_int32(const q::ConvParams& p, int64_t k, int32_t x_max) {
  for (int64_t m = 0; m < p.out_channels; ++m) {
    int64_t s = std::llabs(static_cast<int64_t>(p.bias.empty() ? 0 : p.bias[m]));
    for (int64_t i = 0; i < k; ++i) s += std::abs(static_cast<int32_t>(p.weights[m * k + i])) * int64_t{x_max};
    if (s >= (int64_t{1} << 31)) return false;
  }
  return true;
}

void run_conv(const q::Layer& L, const q::QTensor& in, const q::QTensor& out, const Codes& x, Codes& y) {
  const q::ConvParams& p = L.conv;
  const int64_t M = p.out_channels;
  if (p.is_fc) {
    const int64_t K = p.in_channels;
    const bool narrow = fits_int32(p, K, max_abs_code(in));
    std::vector<int16_t> xs(x.begin(), x.end());
    y.assign(M, 0);
    std::vector<int16_t> wrow(K);
    for (int64_t m = 0; m < M; ++m) {
      const int8_t* w = &p.weights[m * K];
      int64_t acc = 0;
      if (narrow) {
        for (int64_t i = 0; i < K; ++i) wrow[i] = w[i];
        int32_t s = 0;
        for (int64_t i = 0; i < K; ++i) s += int32_t{wrow[i]} * int32_t{xs[i]};
        acc = s;
      } else {
        for (int64_t i = 0; i < K; ++i) acc += int64_t{w[i]} * x[i];
      }
      acc += p.bias.empty() ? 0 : p.bias[m];
      y[m] = qmath::requantize(acc, p.requant[m], out.qmin(), out.qmax());
    }
    return;
  }
  const Chw is = chw_of(in), os = chw_of(out);
  const int64_t G = p.group, Cg = p.in_channels / G, Mg = M / G;
  const int64_t K = Cg * p.kernel_h * p.kernel_w;
  const bool narrow = fits_int32(p, K, max_abs_code(in));
  std::vector<int16_t> w16(p.weights.begin(), p.weights.end());
  std::vector<int16_t> patch(K);
  y.assign(M * os.h * os.w, 0);
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t oy = 0; oy < os.h; ++oy) {
      for (int64_t ox = 0; ox < os.w; ++ox) {
        int64_t k = 0;
        for (int64_t c = 0; c < Cg; ++c) {
          const int32_t* plane = &x[(g * Cg + c) * is.h * is.w];
          for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
            const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
            for (int64_t kx = 0; kx < p.kernel_w; ++kx, ++k) {
              const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              const bool inside = iy >= 0 && iy < is.h && ix >= 0 && ix < is.w;
              patch[k] = inside ? static_cast<int16_t>(plane[iy * is.w + ix]) : int16_t{0};
            }
          }
        }
        for (int64_t mm = 0; mm < Mg; ++mm) {
          const int64_t m = g * Mg + mm;
          const int16_t* w = &w16[m * K];
          int64_t acc = 0;
          if (narrow) {
            int32_t s = 0;
            for (int64_t i = 0; i < K; ++i) s += int32_t{w[i]} * int32_t{patch[i]};
            acc = s;
          } else {
            for (int64_t i = 0; i < K; ++i) acc += int64_t{w[i]} * patch[i];
          }
          acc += p.bias.empty() ? 0 : p.bias[m];
          y[(m * os.h + oy) * os.w + ox] = qmath::requantize(acc, p.requant[m], out.qmin(), out.qmax());
        }
      }
    }
  }
}

void run_pool(const q::Layer& L, const q::QTensor& in, const q::QTensor& out, const Codes& x, Codes& y) {
  const q::PoolParams& p = L.pool;
  const Chw is = chw_of(in), os = chw_of(out);
  const bool is_max = L.kind == q::LayerKind::kMaxPool;
  y.assign(os.c * os.h * os.w, 0);
  for (int64_t c = 0; c < os.c; ++c) {
    const int32_t* plane = &x[c * is.h * is.w];
    for (int64_t oy = 0; oy < os.h; ++oy) {
      for (int64_t ox = 0; ox < os.w; ++ox) {
        int64_t sum = 0, valid = 0, padded = 0;
        int32_t best = 0;
        for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
          const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
            const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            if (iy >= -p.pad_top && iy < is.h + p.pad_bottom && ix >= -p.pad_left && ix < is.w + p.pad_right)
              ++padded;
            if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
            const int32_t v = plane[iy * is.w + ix];
            best = valid == 0 ? v : std::max(best, v);
            sum += v;
            ++valid;
          }
        }
        int32_t r = 0;
        if (is_max) {
          r = qmath::clamp_i32(best, out.qmin(), out.qmax());
        } else {
          const int64_t count = p.count_include_pad ? padded : valid;
          if (count > 0) {
            if (count >= static_cast<int64_t>(p.avg_multiplier.size()))
              throw InputError("layer " + L.name + ": avg_multiplier has no entry for count " +
                               std::to_string(count));
            r = qmath::requantize(sum, p.avg_multiplier[count], out.qmin(), out.qmax());
          }
        }
        y[(c * os.h + oy) * os.w + ox] = r;
      }
    }
  }
}

int32_t lut_lookup(const std::vector<int32_t>& lut, const q::QTensor& in, int32_t code, const q::Layer& L) {
  const int64_t i = static_cast<int64_t>(code) - in.qmin();
  if (i < 0 || i >= static_cast<int64_t>(lut.size()))
    throw InputError("layer " + L.name + ": lookup table of " + std::to_string(lut.size()) +
                     " entries has no entry for code " + std::to_string(code));
  return lut[i];
}

void check_range(const q::QModel& m, const Codes& c, const q::QTensor& t, const std::string& what) {
  for (int32_t v : c)
    if (v < t.qmin() || v > t.qmax())
      fail(m, what + ": code " + std::to_string(v) + " outside [" + std::to_string(t.qmin()) + ", " +
                  std::to_string(t.qmax()) + "] of tensor '" + t.name + "'");
}

void check_layer(const q::QModel& m, const q::Layer& L, const std::vector<bool>& ready) {
  for (int t : L.inputs)
    if (t < 0 || t >= static_cast<int>(m.tensors.size()) || !ready[t])
      fail(m, "layer " + L.name + " reads tensor " + std::to_string(t) + " before it is produced");
  if (L.output < 0 || L.output >= static_cast<int>(m.tensors.size()))
    fail(m, "layer " + L.name + " writes an unknown tensor");
  if (L.inputs.empty()) fail(m, "layer " + L.name + " has no input");
  for (int t : L.inputs)
    if (m.tensors[t].bits < 2 || m.tensors[t].bits > 15) fail(m, "layer " + L.name + ": activation bits must be 2..15");
  if (L.kind == q::LayerKind::kConv) {
    const q::ConvParams& p = L.conv;
    const int64_t k = p.group > 0 ? p.in_channels / p.group * p.kernel_h * p.kernel_w : 0;
    if (p.group <= 0 || p.out_channels % p.group != 0 ||
        static_cast<int64_t>(p.weights.size()) != p.out_channels * k ||
        static_cast<int64_t>(p.requant.size()) != p.out_channels ||
        (!p.bias.empty() && static_cast<int64_t>(p.bias.size()) != p.out_channels) ||
        (p.is_fc && m.tensors[L.inputs[0]].numel() != p.in_channels))
      fail(m, "layer " + L.name + ": inconsistent conv parameters");
  }
}

}  // namespace

std::vector<std::vector<int32_t>> run_integer_codes(const q::QModel& m, const std::vector<int32_t>& input_codes) {
  std::vector<Codes> t(m.tensors.size());
  std::vector<bool> ready(m.tensors.size(), false);
  size_t offset = 0;
  for (int id : m.inputs) {
    const size_t n = static_cast<size_t>(m.tensors[id].numel());
    if (offset + n > input_codes.size())
      fail(m, "input codes: expected " + std::to_string(offset + n) + " codes, got " +
                  std::to_string(input_codes.size()));
    t[id].assign(input_codes.begin() + offset, input_codes.begin() + offset + n);
    offset += n;
    check_range(m, t[id], m.tensors[id], "input codes");
    ready[id] = true;
  }
  if (offset != input_codes.size())
    fail(m, "input codes: expected " + std::to_string(offset) + " codes, got " + std::to_string(input_codes.size()));

  for (const q::Layer& L : m.layers) {
    check_layer(m, L, ready);
    const q::QTensor& in = m.tensors[L.inputs[0]];
    const q::QTensor& out = m.tensors[L.output];
    const Codes& x = t[L.inputs[0]];
    Codes y;
    switch (L.kind) {
      case q::LayerKind::kConv: run_conv(L, in, out, x, y); break;
      case q::LayerKind::kMaxPool:
      case q::LayerKind::kAvgPool: run_pool(L, in, out, x, y); break;
      case q::LayerKind::kAdd: {
        if (L.inputs.size() != 2) fail(m, "add layer " + L.name + " needs two inputs");
        const Codes& b = t[L.inputs[1]];
        if (b.size() != x.size()) fail(m, "add layer " + L.name + ": input sizes differ");
        y.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i)
          y[i] = qmath::add_requantize(x[i], L.add.mult_a, b[i], L.add.mult_b, L.add.add_shift, out.qmin(),
                                       out.qmax());
        break;
      }
      case q::LayerKind::kConcat: {
        if (L.lut_per_input.size() != L.inputs.size()) fail(m, "concat layer " + L.name + ": one table per input expected");
        for (size_t k = 0; k < L.inputs.size(); ++k) {
          const q::QTensor& ik = m.tensors[L.inputs[k]];
          for (int32_t v : t[L.inputs[k]]) y.push_back(lut_lookup(L.lut_per_input[k], ik, v, L));
        }
        break;
      }
      case q::LayerKind::kLut:
        y.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) y[i] = lut_lookup(L.lut, in, x[i], L);
        break;
      case q::LayerKind::kReshape: y = x; break;
    }
    if (static_cast<int64_t>(y.size()) != out.numel())
      fail(m, "layer " + L.name + " produced " + std::to_string(y.size()) + " codes for a tensor of " +
                  std::to_string(out.numel()));
    // Tables and reshapes copy codes: a model whose tables or tensor ranges disagree is
    // caught here, which also keeps the int16 fast path of the next conv exact.
    check_range(m, y, out, "layer " + L.name);
    t[L.output] = std::move(y);
    ready[L.output] = true;
  }
  return t;
}

namespace {

void softmax_strided(float* v, int64_t n, int64_t stride) {
  if (n <= 0) return;
  float hi = v[0];
  for (int64_t k = 1; k < n; ++k) hi = std::max(hi, v[k * stride]);
  double sum = 0.0;
  for (int64_t k = 0; k < n; ++k) sum += std::exp(static_cast<double>(v[k * stride] - hi));
  for (int64_t k = 0; k < n; ++k) v[k * stride] = static_cast<float>(std::exp(static_cast<double>(v[k * stride] - hi)) / sum);
}

}  // namespace

void host_softmax(std::vector<float>& data, const std::vector<int64_t>& shape) {
  const int64_t n = static_cast<int64_t>(data.size());
  if (shape.size() == 3 && shape[0] > 0 && shape[0] * shape[1] * shape[2] == n) {
    const int64_t plane = shape[1] * shape[2];
    for (int64_t p = 0; p < plane; ++p) softmax_strided(data.data() + p, shape[0], plane);
  } else {
    softmax_strided(data.data(), n, 1);
  }
}

std::vector<ir::FloatTensor> run_integer(const q::QModel& m, const std::vector<ir::FloatTensor>& inputs) {
  if (inputs.size() != m.inputs.size())
    fail(m, "expected " + std::to_string(m.inputs.size()) + " input tensor(s), got " + std::to_string(inputs.size()));
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const q::QTensor& qt = m.tensors[m.inputs[i]];
    const ir::FloatTensor& ft = inputs[i];
    const int64_t n = ft.shape.empty() ? 0 : ft.shape[0];
    if (n <= 0 || ft.numel() != n * qt.numel() || static_cast<int64_t>(ft.data.size()) != ft.numel())
      fail(m, "input '" + qt.name + "': expected a batch of tensors of " + std::to_string(qt.numel()) +
                  " elements with a leading batch dimension");
    if (batch >= 0 && n != batch) fail(m, "inputs have different batch sizes");
    batch = n;
  }
  std::vector<ir::FloatTensor> outs(m.outputs.size());
  for (size_t o = 0; o < m.outputs.size(); ++o) {
    outs[o].shape = m.tensors[m.outputs[o]].shape;
    outs[o].shape.insert(outs[o].shape.begin(), std::max<int64_t>(batch, 0));
  }
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int32_t> codes;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const q::QTensor& qt = m.tensors[m.inputs[i]];
      const int64_t n = qt.numel();
      for (int64_t k = 0; k < n; ++k)
        codes.push_back(qmath::quantize_value(inputs[i].data[b * n + k], qt.scale, qt.qmin(), qt.qmax()));
    }
    std::vector<Codes> t = run_integer_codes(m, codes);
    for (size_t o = 0; o < m.outputs.size(); ++o) {
      const q::QTensor& qt = m.tensors[m.outputs[o]];
      std::vector<float> v(t[m.outputs[o]].size());
      for (size_t k = 0; k < v.size(); ++k) v[k] = qmath::dequantize_value(t[m.outputs[o]][k], qt.scale);
      if (o < m.output_host_softmax.size() && m.output_host_softmax[o]) host_softmax(v, qt.shape);
      outs[o].data.insert(outs[o].data.end(), v.begin(), v.end());
    }
  }
  return outs;
}

}  // namespace cimsim::reference
