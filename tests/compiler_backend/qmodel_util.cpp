// Test model builder and naive reference (see qmodel_util.h).
#include "qmodel_util.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <algorithm>
#include <cmath>

#include "platform/spec/npy.h"
#include "platform/spec/qmath.h"

namespace cimsim::testing {

int ModelBuilder::tensor(const std::vector<int64_t>& shape, bool is_unsigned) {
  q::QTensor t;
  t.name = "t" + std::to_string(m.tensors.size());
  t.shape = shape;
  t.scale = 0.05f;
  t.is_unsigned = is_unsigned;
  t.bits = 8;
  m.tensors.push_back(t);
  return static_cast<int>(m.tensors.size()) - 1;
}

q::Layer& ModelBuilder::layer(q::LayerKind k, std::vector<int> ins, int out) {
  q::Layer l;
  l.name = "L" + std::to_string(m.layers.size());
  l.kind = k;
  l.inputs = std::move(ins);
  l.output = out;
  m.layers.push_back(l);
  return m.layers.back();
}

int ModelBuilder::input(const std::vector<int64_t>& shape, bool is_unsigned) {
  const int t = tensor(shape, is_unsigned);
  m.inputs.push_back(t);
  return t;
}

static int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, int64_t d) {
  return (in + p0 + p1 - (k - 1) * d - 1) / s + 1;
}

int ModelBuilder::conv(int in, const ConvSpec& s) {
  const auto& is = m.tensors[static_cast<size_t>(in)].shape;
  const int64_t C = is[0];
  const int64_t OH = out_dim(is[1], s.kh, s.sh, s.pt, s.pb, s.dh);
  const int64_t OW = out_dim(is[2], s.kw, s.sw, s.pl, s.pr, s.dw);
  const int out = tensor({s.M, OH, OW}, s.relu);
  q::Layer& l = layer(q::LayerKind::kConv, {in}, out);
  q::ConvParams& p = l.conv;
  p.in_channels = C;
  p.out_channels = s.M;
  p.kernel_h = s.kh;
  p.kernel_w = s.kw;
  p.stride_h = s.sh;
  p.stride_w = s.sw;
  p.pad_top = s.pt;
  p.pad_left = s.pl;
  p.pad_bottom = s.pb;
  p.pad_right = s.pr;
  p.dilation_h = s.dh;
  p.dilation_w = s.dw;
  p.group = s.group;
  const int64_t K = C / s.group * s.kh * s.kw;
  std::uniform_int_distribution<int> wd(-127, 127), bd(-2000, 2000);
  p.weights.resize(static_cast<size_t>(s.M * K));
  for (auto& w : p.weights) w = static_cast<int8_t>(wd(rng_));
  for (int64_t mo = 0; mo < s.M; ++mo) {
    p.bias.push_back(bd(rng_));
    p.weight_scale.push_back(0.01f);
    p.requant.push_back(qmath::quantize_multiplier(1.0 / (std::sqrt(double(K)) * 127.0) * (1.0 + 0.1 * double(mo % 3))));
  }
  return out;
}

int ModelBuilder::fc(int in, int64_t M, bool relu) {
  const int64_t F = m.tensors[static_cast<size_t>(in)].numel();
  const int out = tensor({M}, relu);
  q::Layer& l = layer(q::LayerKind::kConv, {in}, out);
  q::ConvParams& p = l.conv;
  p.is_fc = true;
  p.in_channels = F;
  p.out_channels = M;
  std::uniform_int_distribution<int> wd(-127, 127), bd(-2000, 2000);
  p.weights.resize(static_cast<size_t>(M * F));
  for (auto& w : p.weights) w = static_cast<int8_t>(wd(rng_));
  for (int64_t mo = 0; mo < M; ++mo) {
    p.bias.push_back(bd(rng_));
    p.weight_scale.push_back(0.01f);
    p.requant.push_back(qmath::quantize_multiplier(1.0 / (std::sqrt(double(F)) * 127.0)));
  }
  return out;
}

int ModelBuilder::reshape(int in, const std::vector<int64_t>& shape) {
  const int out = tensor(shape, m.tensors[static_cast<size_t>(in)].is_unsigned);
  layer(q::LayerKind::kReshape, {in}, out);
  return out;
}

int ModelBuilder::maxpool(int in, int64_t k, int64_t s, int64_t pad) {
  const auto is = m.tensors[static_cast<size_t>(in)].shape;
  const int out = tensor({is[0], out_dim(is[1], k, s, pad, pad, 1), out_dim(is[2], k, s, pad, pad, 1)},
                         m.tensors[static_cast<size_t>(in)].is_unsigned);
  q::Layer& l = layer(q::LayerKind::kMaxPool, {in}, out);
  l.pool.kernel_h = l.pool.kernel_w = k;
  l.pool.stride_h = l.pool.stride_w = s;
  l.pool.pad_top = l.pool.pad_left = l.pool.pad_bottom = l.pool.pad_right = pad;
  return out;
}

int ModelBuilder::avgpool(int in, int64_t k, int64_t s, int64_t pad, bool include_pad) {
  const auto is = m.tensors[static_cast<size_t>(in)].shape;
  const int out = tensor({is[0], out_dim(is[1], k, s, pad, pad, 1), out_dim(is[2], k, s, pad, pad, 1)},
                         m.tensors[static_cast<size_t>(in)].is_unsigned);
  q::Layer& l = layer(q::LayerKind::kAvgPool, {in}, out);
  l.pool.kernel_h = l.pool.kernel_w = k;
  l.pool.stride_h = l.pool.stride_w = s;
  l.pool.pad_top = l.pool.pad_left = l.pool.pad_bottom = l.pool.pad_right = pad;
  l.pool.count_include_pad = include_pad;
  l.pool.avg_multiplier.push_back({});
  for (int64_t c = 1; c <= k * k; ++c) l.pool.avg_multiplier.push_back(qmath::quantize_multiplier(1.0 / double(c)));
  return out;
}

int ModelBuilder::global_avgpool(int in) {
  const auto is = m.tensors[static_cast<size_t>(in)].shape;
  const int out = tensor({is[0], 1, 1}, m.tensors[static_cast<size_t>(in)].is_unsigned);
  q::Layer& l = layer(q::LayerKind::kAvgPool, {in}, out);
  l.pool.kernel_h = is[1];
  l.pool.kernel_w = is[2];
  l.pool.avg_multiplier.push_back({});
  for (int64_t c = 1; c <= is[1] * is[2]; ++c) l.pool.avg_multiplier.push_back(qmath::quantize_multiplier(1.0 / double(c)));
  return out;
}

int ModelBuilder::add(int a, int b, bool relu) {
  const int out = tensor(m.tensors[static_cast<size_t>(a)].shape, relu);
  q::Layer& l = layer(q::LayerKind::kAdd, {a, b}, out);
  l.add.mult_a = 1 << 29;        // 0.5
  l.add.mult_b = 3 << 28;        // 0.75
  l.add.add_shift = 30;
  return out;
}

static std::vector<int32_t> some_lut(int bits_in, bool in_uns, bool out_uns, int salt) {
  const int n = 1 << bits_in;
  const int32_t qmin_in = qmath::qmin_for(bits_in, in_uns);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    const int32_t x = qmin_in + k;
    int32_t y = (x * 3) / 4 + salt;  // a monotone, non-identity map
    t[static_cast<size_t>(k)] = std::clamp(y, qmath::qmin_for(8, out_uns), qmath::qmax_for(8, out_uns));
  }
  return t;
}

int ModelBuilder::concat(const std::vector<int>& ins) {
  const auto s0 = m.tensors[static_cast<size_t>(ins[0])].shape;
  int64_t C = 0;
  for (int t : ins) C += m.tensors[static_cast<size_t>(t)].shape[0];
  const bool uns = m.tensors[static_cast<size_t>(ins[0])].is_unsigned;
  const int out = tensor({C, s0[1], s0[2]}, uns);
  q::Layer& l = layer(q::LayerKind::kConcat, ins, out);
  for (size_t i = 0; i < ins.size(); ++i) {
    const bool in_uns = m.tensors[static_cast<size_t>(ins[i])].is_unsigned;
    if (i == 0 && in_uns == uns) {
      std::vector<int32_t> id(256);
      for (int k = 0; k < 256; ++k) id[static_cast<size_t>(k)] = qmath::qmin_for(8, in_uns) + k;
      l.lut_per_input.push_back(id);
    } else {
      l.lut_per_input.push_back(some_lut(8, in_uns, uns, static_cast<int>(i) * 5));
    }
  }
  return out;
}

int ModelBuilder::lut(int in) {
  const bool uns = m.tensors[static_cast<size_t>(in)].is_unsigned;
  const int out = tensor(m.tensors[static_cast<size_t>(in)].shape, false);
  q::Layer& l = layer(q::LayerKind::kLut, {in}, out);
  l.lut = some_lut(8, uns, false, -7);
  return out;
}

std::vector<int32_t> random_codes(const q::QTensor& t, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> d(t.qmin(), t.qmax());
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (auto& x : v) x = d(rng);
  return v;
}

namespace {

struct Dims {
  int64_t C = 1, H = 1, W = 1;
};
Dims dims(const q::QTensor& t) {
  if (t.shape.size() == 3) return {t.shape[0], t.shape[1], t.shape[2]};
  return {t.numel(), 1, 1};
}

}  // namespace

std::vector<std::vector<int32_t>> reference_codes(const q::QModel& m,
                                                  const std::vector<std::vector<int32_t>>& inputs) {
  std::vector<std::vector<int32_t>> v(m.tensors.size());
  for (size_t i = 0; i < m.inputs.size(); ++i) v[static_cast<size_t>(m.inputs[i])] = inputs[i];
  for (const q::Layer& l : m.layers) {
    const q::QTensor& ot = m.tensors[static_cast<size_t>(l.output)];
    std::vector<int32_t>& out = v[static_cast<size_t>(l.output)];
    out.assign(static_cast<size_t>(ot.numel()), 0);
    const Dims od = dims(ot);
    const std::vector<int32_t>& x = v[static_cast<size_t>(l.inputs[0])];
    const Dims id = dims(m.tensors[static_cast<size_t>(l.inputs[0])]);
    switch (l.kind) {
      case q::LayerKind::kConv: {
        const q::ConvParams& p = l.conv;
        if (p.is_fc) {
          const int64_t F = p.in_channels;
          for (int64_t mo = 0; mo < p.out_channels; ++mo) {
            int64_t acc = p.bias[static_cast<size_t>(mo)];
            for (int64_t f = 0; f < F; ++f) acc += int64_t{p.weights[static_cast<size_t>(mo * F + f)]} * x[static_cast<size_t>(f)];
            out[static_cast<size_t>(mo)] = qmath::requantize(acc, p.requant[static_cast<size_t>(mo)], ot.qmin(), ot.qmax());
          }
          break;
        }
        const int64_t Cg = p.in_channels / p.group, Mg = p.out_channels / p.group;
        for (int64_t mo = 0; mo < p.out_channels; ++mo) {
          const int64_t g = mo / Mg;
          for (int64_t oy = 0; oy < od.H; ++oy)
            for (int64_t ox = 0; ox < od.W; ++ox) {
              int64_t acc = p.bias[static_cast<size_t>(mo)];
              for (int64_t c = 0; c < Cg; ++c)
                for (int64_t ky = 0; ky < p.kernel_h; ++ky)
                  for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                    const int64_t y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
                    const int64_t xx = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                    if (y < 0 || y >= id.H || xx < 0 || xx >= id.W) continue;
                    const int64_t w = p.weights[static_cast<size_t>(((mo * Cg + c) * p.kernel_h + ky) * p.kernel_w + kx)];
                    acc += w * x[static_cast<size_t>(((g * Cg + c) * id.H + y) * id.W + xx)];
                  }
              out[static_cast<size_t>((mo * od.H + oy) * od.W + ox)] =
                  qmath::requantize(acc, p.requant[static_cast<size_t>(mo)], ot.qmin(), ot.qmax());
            }
        }
        break;
      }
      case q::LayerKind::kMaxPool:
      case q::LayerKind::kAvgPool: {
        const q::PoolParams& p = l.pool;
        for (int64_t c = 0; c < od.C; ++c)
          for (int64_t oy = 0; oy < od.H; ++oy)
            for (int64_t ox = 0; ox < od.W; ++ox) {
              int64_t best = INT64_MIN, sum = 0, count = 0;
              for (int64_t ky = 0; ky < p.kernel_h; ++ky)
                for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                  const int64_t y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
                  const int64_t xx = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                  const bool inside = y >= 0 && y < id.H && xx >= 0 && xx < id.W;
                  const bool in_pad = y >= -p.pad_top && y < id.H + p.pad_bottom &&
                                      xx >= -p.pad_left && xx < id.W + p.pad_right;
                  if (p.count_include_pad ? in_pad : inside) ++count;
                  if (!inside) continue;
                  const int64_t val = x[static_cast<size_t>((c * id.H + y) * id.W + xx)];
                  best = std::max(best, val);
                  sum += val;
                }
              out[static_cast<size_t>((c * od.H + oy) * od.W + ox)] =
                  l.kind == q::LayerKind::kMaxPool
                      ? static_cast<int32_t>(best)
                      : qmath::requantize(sum, p.avg_multiplier[static_cast<size_t>(count)], ot.qmin(), ot.qmax());
            }
        break;
      }
      case q::LayerKind::kAdd: {
        const std::vector<int32_t>& b = v[static_cast<size_t>(l.inputs[1])];
        for (size_t i = 0; i < out.size(); ++i) {
          out[i] = qmath::add_requantize(x[i], l.add.mult_a, b[i], l.add.mult_b, l.add.add_shift, ot.qmin(), ot.qmax());
        }
        break;
      }
      case q::LayerKind::kConcat: {
        size_t o = 0;
        for (size_t i = 0; i < l.inputs.size(); ++i) {
          const q::QTensor& it = m.tensors[static_cast<size_t>(l.inputs[i])];
          for (int32_t c : v[static_cast<size_t>(l.inputs[i])]) {
            out[o++] = l.lut_per_input[i][static_cast<size_t>(c - it.qmin())];
          }
        }
        break;
      }
      case q::LayerKind::kLut: {
        const q::QTensor& it = m.tensors[static_cast<size_t>(l.inputs[0])];
        for (size_t i = 0; i < out.size(); ++i) out[i] = l.lut[static_cast<size_t>(x[i] - it.qmin())];
        break;
      }
      case q::LayerKind::kReshape:
        out = x;
        break;
    }
  }
  return v;
}

std::vector<std::vector<int32_t>> write_code_inputs(const q::QTensor& in, int batch, std::mt19937& rng,
                                                    const std::string& path) {
  NpyArray x;
  x.shape = {batch};
  for (int64_t d : in.shape) x.shape.push_back(d);
  std::vector<std::vector<int32_t>> codes;
  for (int n = 0; n < batch; ++n) {
    codes.push_back(random_codes(in, rng));
    for (int32_t c : codes.back()) x.data.push_back(static_cast<float>(c) * in.scale);
  }
  write_npy(path, x);
  return codes;
}

void put_input(std::vector<uint8_t>& g, const TensorIO& io, int64_t n, const std::vector<int32_t>& chw) {
  const int64_t base = io.global_addr + n * io.bytes_per_image;
  if (static_cast<int64_t>(g.size()) < base + io.bytes_per_image) g.resize(static_cast<size_t>(base + io.bytes_per_image), 0);
  int64_t C = static_cast<int64_t>(chw.size()), H = 1, W = 1;
  if (io.shape.size() == 3) C = io.shape[0], H = io.shape[1], W = io.shape[2];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        g[static_cast<size_t>(base + (y * W + x) * C + c)] = static_cast<uint8_t>(chw[static_cast<size_t>((c * H + y) * W + x)]);
}

std::vector<int32_t> get_output(const std::vector<uint8_t>& g, const TensorIO& io, int64_t n) {
  const int64_t base = io.global_addr + n * io.bytes_per_image;
  int64_t C = io.bytes_per_image, H = 1, W = 1;
  if (io.shape.size() == 3) C = io.shape[0], H = io.shape[1], W = io.shape[2];
  std::vector<int32_t> out(static_cast<size_t>(C * H * W), 0);
  if (static_cast<int64_t>(g.size()) < base + io.bytes_per_image) return out;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const uint8_t b = g[static_cast<size_t>(base + (y * W + x) * C + c)];
        out[static_cast<size_t>((c * H + y) * W + x)] = io.is_unsigned ? int32_t{b} : int32_t{static_cast<int8_t>(b)};
      }
  return out;
}

ArchSpec test_arch(int mesh_rows, int mesh_cols) {
  ArchSpec a = load_arch_spec(std::string(CIMSIM_SOURCE_DIR) + "/configs/tiny.yaml");
  a.chip.mesh_rows = mesh_rows;
  a.chip.mesh_cols = mesh_cols;
  a.chip.cores = mesh_rows * mesh_cols;
  return a;
}

ArchSpec write_tiny_arch(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& edits) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::stringstream ss;
  ss << std::ifstream(fs::path(CIMSIM_SOURCE_DIR) / "configs/tiny.yaml").rdbuf();
  std::string yaml = ss.str();
  for (const auto& [from, to] : edits) {
    const size_t at = yaml.find(from);
    if (at == std::string::npos) throw std::runtime_error("configs/tiny.yaml has no '" + from + "'");
    yaml.replace(at, from.size(), to);
  }
  const fs::path path = fs::path(dir) / "arch.yaml";
  std::ofstream(path) << yaml;
  return load_arch_spec(path.string());
}

}  // namespace cimsim::testing
