#include "compiler/reference/float_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "platform/spec/arch.h"

namespace cimsim::reference {

namespace {

using ir::FloatTensor;
using Shape = std::vector<int64_t>;

std::atomic<int> g_threads{std::max(1, std::min(2, static_cast<int>(std::thread::hardware_concurrency())))};

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Register-blocked SGEMM on packed panels. MR x NR accumulators stay in registers; the
// B panel (KC x NC) stays in L2, the A block (MC x KC) in L1/L2.
constexpr int64_t kMR = 6;
constexpr int64_t kNR = 16;
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 72;
constexpr int64_t kNC = 512;

// Packs B(k, j) = B[k*rs + j*cs] for k in [0,kc), j in [0,nc) into NR-wide column strips.
void pack_b(const float* B, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* out) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
    int64_t nr = std::min(kNR, nc - j0);
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + k * rs + j0 * cs;
      float* dst = out + j0 * kc + k * kNR;
      if (cs == 1) {
        for (int64_t j = 0; j < nr; ++j) dst[j] = src[j];
      } else {
        for (int64_t j = 0; j < nr; ++j) dst[j] = src[j * cs];
      }
      for (int64_t j = nr; j < kNR; ++j) dst[j] = 0.0f;
    }
  }
}

// Packs A(i, k) = A[i*rs + k*cs] into MR-tall row strips.
void pack_a(const float* A, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
    int64_t mr = std::min(kMR, mc - i0);
    for (int64_t k = 0; k < kc; ++k) {
      float* dst = out + i0 * kc + k * kMR;
      for (int64_t i = 0; i < mr; ++i) dst[i] = A[(i0 + i) * rs + k * cs];
      for (int64_t i = mr; i < kMR; ++i) dst[i] = 0.0f;
    }
  }
}

// 8 floats; aligned(4) so loads from packed buffers need no 32-byte alignment.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

// kMR x kNR tile of C from packed panels: 12 vector accumulators fit the 16 AVX registers.
// Inlined into an AVX2+FMA and a baseline wrapper, chosen once at run time (target_clones
// with "arch=" would dispatch on the exact CPU model, not on the instruction set).
inline __attribute__((always_inline)) void micro_body(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* c,
                  int64_t ldc, int64_t mr, int64_t nr, bool accumulate) {
  static_assert(kMR == 6 && kNR == 16, "micro_kernel is written for a 6x16 tile");
  v8f c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {};
  v8f c30 = {}, c31 = {}, c40 = {}, c41 = {}, c50 = {}, c51 = {};
  for (int64_t k = 0; k < kc; ++k) {
    const v8f b0 = *reinterpret_cast<const v8f*>(bp + k * kNR);
    const v8f b1 = *reinterpret_cast<const v8f*>(bp + k * kNR + 8);
    const float* a = ap + k * kMR;
    c00 += a[0] * b0; c01 += a[0] * b1;
    c10 += a[1] * b0; c11 += a[1] * b1;
    c20 += a[2] * b0; c21 += a[2] * b1;
    c30 += a[3] * b0; c31 += a[3] * b1;
    c40 += a[4] * b0; c41 += a[4] * b1;
    c50 += a[5] * b0; c51 += a[5] * b1;
  }
  float t[kMR][kNR];
  const v8f rows[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < kMR; ++r) {
    std::memcpy(&t[r][0], &rows[r][0], sizeof(v8f));
    std::memcpy(&t[r][8], &rows[r][1], sizeof(v8f));
  }
  for (int64_t r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    if (accumulate) {
      for (int64_t j = 0; j < nr; ++j) row[j] += t[r][j];
    } else {
      for (int64_t j = 0; j < nr; ++j) row[j] = t[r][j];
    }
  }
}

__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* ap, const float* bp, float* c,
                                                    int64_t ldc, int64_t mr, int64_t nr, bool accumulate) {
  micro_body(kc, ap, bp, c, ldc, mr, nr, accumulate);
}

void micro_generic(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t mr,
                   int64_t nr, bool accumulate) {
  micro_body(kc, ap, bp, c, ldc, mr, nr, accumulate);
}

using MicroFn = void (*)(int64_t, const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
const MicroFn micro_kernel = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? MicroFn(micro_avx2)
                                                                         : MicroFn(micro_generic);
}();

// One output row (M = 1, batch-1 fully connected layers): y[j] (+)= sum_k a[k] * B(k, j).
// Row-major B streams rows with an axpy; transposed B ([N, K], torch Linear) takes dot
// products over contiguous rows with 8-lane partial sums.
inline __attribute__((always_inline)) void gemv_body(int64_t n0, int64_t n1, int64_t K, const float* a,
                                                    int64_t csa, const float* B, int64_t rsb, int64_t csb,
                                                    float* c, bool accumulate) {
  if (csb == 1) {
    if (!accumulate) std::fill(c + n0, c + n1, 0.0f);
    for (int64_t k = 0; k < K; ++k) {
      const float av = a[k * csa];
      const float* brow = B + k * rsb;
      for (int64_t j = n0; j < n1; ++j) c[j] += av * brow[j];
    }
    return;
  }
  for (int64_t j = n0; j < n1; ++j) {
    const float* bcol = B + j * csb;  // rsb == 1: contiguous over k
    v8f acc = {};
    int64_t k = 0;
    if (csa == 1)
      for (; k + 8 <= K; k += 8)
        acc += *reinterpret_cast<const v8f*>(a + k) * *reinterpret_cast<const v8f*>(bcol + k);
    float s = 0.0f;
    for (int i = 0; i < 8; ++i) s += acc[i];
    for (; k < K; ++k) s += a[k * csa] * bcol[k];
    c[j] = accumulate ? c[j] + s : s;
  }
}

__attribute__((target("avx2,fma"))) void gemv_avx2(int64_t n0, int64_t n1, int64_t K, const float* a, int64_t csa,
                                                   const float* B, int64_t rsb, int64_t csb, float* c, bool acc) {
  gemv_body(n0, n1, K, a, csa, B, rsb, csb, c, acc);
}

void gemv_generic(int64_t n0, int64_t n1, int64_t K, const float* a, int64_t csa, const float* B, int64_t rsb,
                  int64_t csb, float* c, bool acc) {
  gemv_body(n0, n1, K, a, csa, B, rsb, csb, c, acc);
}

using GemvFn = void (*)(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t, float*,
                        bool);
const GemvFn gemv_kernel = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? GemvFn(gemv_avx2)
                                                                         : GemvFn(gemv_generic);
}();

// Single-threaded strided SGEMM over columns [n0, n1).
void sgemm_range(int64_t M, int64_t n0, int64_t n1, int64_t K, const float* A, int64_t rsa,
                 int64_t csa, const float* B, int64_t rsb, int64_t csb, float* C, int64_t ldc,
                 bool accumulate) {
  std::vector<float> bpack(static_cast<size_t>(kKC * (kNC + kNR)));
  std::vector<float> apack(static_cast<size_t>(kKC * (kMC + kMR)));
  for (int64_t jc = n0; jc < n1; jc += kNC) {
    int64_t nc = std::min(kNC, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      int64_t kc = std::min(kKC, K - pc);
      bool acc = accumulate || pc > 0;
      pack_b(B + pc * rsb + jc * csb, rsb, csb, kc, nc, bpack.data());
      for (int64_t ic = 0; ic < M; ic += kMC) {
        int64_t mc = std::min(kMC, M - ic);
        pack_a(A + ic * rsa + pc * csa, rsa, csa, mc, kc, apack.data());
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          int64_t nr = std::min(kNR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            int64_t mr = std::min(kMR, mc - ir);
            micro_kernel(kc, apack.data() + ir * kc, bpack.data() + jr * kc,
                         C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}

void sgemm_strided(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsa, int64_t csa,
                   const float* B, int64_t rsb, int64_t csb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
    return;
  }
  int threads = g_threads.load();
  if (M == 1 && (csb == 1 || rsb == 1)) {
    if (threads > 1 && N * K >= (int64_t{1} << 21) && N >= 64) {
      const int64_t half = N / 2;
      std::thread other(gemv_kernel, half, N, K, A, csa, B, rsb, csb, C, accumulate);
      gemv_kernel(0, half, K, A, csa, B, rsb, csb, C, accumulate);
      other.join();
    } else {
      gemv_kernel(0, N, K, A, csa, B, rsb, csb, C, accumulate);
    }
    return;
  }
  if (threads > 1 && M * N * K >= (int64_t{1} << 21) && N >= 2 * kNR) {
    std::vector<std::thread> pool;
    int64_t chunk = ((N + threads - 1) / threads + kNR - 1) / kNR * kNR;
    for (int t = 1; t < threads; ++t) {
      int64_t a = t * chunk, b = std::min(N, a + chunk);
      if (a >= b) break;
      pool.emplace_back(sgemm_range, M, a, b, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate);
    }
    sgemm_range(M, 0, std::min(N, chunk), K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate);
    for (auto& th : pool) th.join();
    return;
  }
  sgemm_range(M, 0, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate);
}

// Strides of `in` broadcast to `out` (0 along broadcast dimensions), aligned to out's rank.
Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  int64_t s = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    size_t oi = out.size() - 1 - i;
    size_t ii = in.size() - 1 - i;
    st[oi] = in[ii] == 1 ? 0 : s;
    s *= in[ii];
  }
  return st;
}

template <typename F>
void broadcast_apply(const FloatTensor& a, const FloatTensor& b, FloatTensor& y, F f) {
  const Shape& out = y.shape;
  const int64_t n = numel(out);
  y.data.resize(static_cast<size_t>(n));
  const float* pa = a.data.data();
  const float* pb = b.data.data();
  float* py = y.data.data();
  if (a.shape == out && b.shape == out) {
    for (int64_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
    return;
  }
  if (n == 0) return;
  if (out.empty()) {
    py[0] = f(pa[0], pb[0]);
    return;
  }
  Shape sa = broadcast_strides(a.shape, out), sb = broadcast_strides(b.shape, out);
  const size_t r = out.size();
  const int64_t inner = out[r - 1];
  const int64_t ia = sa[r - 1], ib = sb[r - 1];
  Shape idx(r, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t base = 0; base < n; base += inner) {
    for (int64_t j = 0; j < inner; ++j) py[base + j] = f(pa[oa + j * ia], pb[ob + j * ib]);
    for (size_t d = r - 1; d-- > 0;) {
      ++idx[d];
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < out[d]) break;
      oa -= sa[d] * out[d];
      ob -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

float wrap_integer(double v, ir::DType t) {
  double lo, span;
  switch (t) {
    case ir::DType::kUInt8: lo = 0; span = 256; break;
    case ir::DType::kInt8: lo = -128; span = 256; break;
    case ir::DType::kInt32: lo = -2147483648.0; span = 4294967296.0; break;
    default: return static_cast<float>(v);
  }
  double w = std::fmod(v - lo, span);
  if (w < 0) w += span;
  return static_cast<float>(w + lo);
}

[[noreturn]] void bad(const std::string& msg) { throw InputError(msg); }

const FloatTensor& req(const std::vector<const FloatTensor*>& in, size_t i) {
  if (i >= in.size() || in[i] == nullptr) bad("missing input " + std::to_string(i));
  return *in[i];
}

const FloatTensor* opt(const std::vector<const FloatTensor*>& in, size_t i) {
  return i < in.size() ? in[i] : nullptr;
}

}  // namespace

void set_float_threads(int threads) { g_threads = std::max(1, threads); }
int float_threads() { return g_threads.load(); }

namespace {
WeightProduct& weight_product_hook() {
  static WeightProduct hook;
  return hook;
}
}  // namespace

WeightProduct set_weight_product(WeightProduct f) {
  WeightProduct prev = std::move(weight_product_hook());
  weight_product_hook() = std::move(f);
  return prev;
}

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  sgemm_strided(M, N, K, A, lda, 1, B, ldb, 1, C, ldc, accumulate);
}

void spatial_hw(const Shape& s, int64_t* H, int64_t* W) {
  if (s.size() == 4) {
    *H = s[2];
    *W = s[3];
  } else if (s.size() == 3) {
    *H = 1;
    *W = s[2];
  } else {
    *H = *W = 1;
  }
}

void im2col(const float* x, int64_t C, int64_t H, int64_t W, const ir::WindowParams& p,
            int64_t OH, int64_t OW, float* col) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t kh = 0; kh < p.kernel_h; ++kh)
      for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
        float* dst = col + ((c * p.kernel_h + kh) * p.kernel_w + kw) * OH * OW;
        const float* src = x + c * H * W;
        for (int64_t oh = 0; oh < OH; ++oh) {
          int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
          float* drow = dst + oh * OW;
          if (ih < 0 || ih >= H) {
            std::fill(drow, drow + OW, 0.0f);
            continue;
          }
          const float* srow = src + ih * W;
          int64_t off = kw * p.dilation_w - p.pad_left;
          if (p.stride_w == 1) {
            int64_t lo = std::clamp<int64_t>(-off, 0, OW), hi = std::clamp<int64_t>(W - off, 0, OW);
            for (int64_t ow = 0; ow < lo; ++ow) drow[ow] = 0.0f;
            for (int64_t ow = lo; ow < hi; ++ow) drow[ow] = srow[ow + off];
            for (int64_t ow = std::max(lo, hi); ow < OW; ++ow) drow[ow] = 0.0f;
          } else {
            for (int64_t ow = 0; ow < OW; ++ow) {
              int64_t iw = ow * p.stride_w + off;
              drow[ow] = (iw >= 0 && iw < W) ? srow[iw] : 0.0f;
            }
          }
        }
      }
}

void conv(const FloatTensor& x, const FloatTensor& w, const FloatTensor* bias,
          const ir::WindowParams& p, FloatTensor& y) {
  const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
  int64_t H, W, OH, OW;
  spatial_hw(x.shape, &H, &W);
  spatial_hw(y.shape, &OH, &OW);
  const int64_t G = p.group, Cg = C / G, Mg = M / G;
  const int64_t K = Cg * p.kernel_h * p.kernel_w, P = OH * OW;
  y.data.assign(static_cast<size_t>(N * M * P), 0.0f);
  const bool depthwise = G == C && Cg == 1 && Mg == 1;
  const bool pointwise = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  std::vector<float> col;
  if (!pointwise && !depthwise) col.resize(static_cast<size_t>(K * P));
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x.data.data() + n * C * H * W;
    float* yn = y.data.data() + n * M * P;
    if (depthwise) {
      // Direct loop: im2col would turn each channel into a 1-row GEMM.
      for (int64_t c = 0; c < C; ++c) {
        const float* xc = xn + c * H * W;
        const float* wc = w.data.data() + c * p.kernel_h * p.kernel_w;
        float* yc = yn + c * P;
        for (int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            float wv = wc[kh * p.kernel_w + kw];
            for (int64_t oh = 0; oh < OH; ++oh) {
              int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
              if (ih < 0 || ih >= H) continue;
              const float* srow = xc + ih * W;
              float* drow = yc + oh * OW;
              int64_t off = kw * p.dilation_w - p.pad_left;
              for (int64_t ow = 0; ow < OW; ++ow) {
                int64_t iw = ow * p.stride_w + off;
                if (iw >= 0 && iw < W) drow[ow] += wv * srow[iw];
              }
            }
          }
      }
    } else {
      for (int64_t g = 0; g < G; ++g) {
        const float* xg = xn + g * Cg * H * W;
        const float* b = xg;
        if (!pointwise) {
          im2col(xg, Cg, H, W, p, OH, OW, col.data());
          b = col.data();
        }
        if (weight_product_hook())
          weight_product_hook()(Mg, P, K, w.data.data() + g * Mg * K, b, yn + g * Mg * P);
        else
          sgemm(Mg, P, K, w.data.data() + g * Mg * K, K, b, P, yn + g * Mg * P, P, false);
      }
    }
    if (bias)
      for (int64_t m = 0; m < M; ++m) {
        float bv = bias->data[m];
        float* ym = yn + m * P;
        for (int64_t i = 0; i < P; ++i) ym[i] += bv;
      }
  }
}

void max_pool(const FloatTensor& x, const ir::WindowParams& p, FloatTensor& y) {
  const int64_t NC = x.shape[0] * x.shape[1];
  int64_t H, W, OH, OW;
  spatial_hw(x.shape, &H, &W);
  spatial_hw(y.shape, &OH, &OW);
  y.data.resize(static_cast<size_t>(NC * OH * OW));
  for (int64_t c = 0; c < NC; ++c) {
    const float* xc = x.data.data() + c * H * W;
    float* yc = y.data.data() + c * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
          if (ih < 0 || ih >= H) continue;
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
            if (iw < 0 || iw >= W) continue;
            m = std::max(m, xc[ih * W + iw]);
          }
        }
        yc[oh * OW + ow] = m;
      }
  }
}

void average_pool(const FloatTensor& x, const ir::WindowParams& p, FloatTensor& y) {
  const int64_t NC = x.shape[0] * x.shape[1];
  int64_t H, W, OH, OW;
  spatial_hw(x.shape, &H, &W);
  spatial_hw(y.shape, &OH, &OW);
  y.data.resize(static_cast<size_t>(NC * OH * OW));
  for (int64_t c = 0; c < NC; ++c) {
    const float* xc = x.data.data() + c * H * W;
    float* yc = y.data.data() + c * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        // PyTorch/ONNX: with count_include_pad the divisor counts the padded window, clipped
        // to the declared padding (ceil_mode overhang is never counted).
        int64_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
        int64_t h1 = std::min(h0 + p.kernel_h, H + p.pad_bottom);
        int64_t w1 = std::min(w0 + p.kernel_w, W + p.pad_right);
        int64_t padded = (h1 - h0) * (w1 - w0);
        h0 = std::max<int64_t>(h0, 0);
        w0 = std::max<int64_t>(w0, 0);
        h1 = std::min(h1, H);
        w1 = std::min(w1, W);
        float s = 0.0f;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) s += xc[ih * W + iw];
        int64_t count = p.count_include_pad ? padded : (h1 - h0) * (w1 - w0);
        yc[oh * OW + ow] = count > 0 ? s / static_cast<float>(count) : 0.0f;
      }
  }
}

void global_average_pool(const FloatTensor& x, FloatTensor& y) {
  const int64_t NC = x.shape[0] * x.shape[1];
  const int64_t S = NC == 0 ? 0 : numel(x.shape) / NC;
  y.data.resize(static_cast<size_t>(NC));
  for (int64_t c = 0; c < NC; ++c) {
    double s = 0.0;
    const float* xc = x.data.data() + c * S;
    for (int64_t i = 0; i < S; ++i) s += xc[i];
    y.data[c] = static_cast<float>(s / static_cast<double>(S));
  }
}

void gemm(const FloatTensor& a, const FloatTensor& b, const FloatTensor* c, float alpha, float beta,
          bool trans_a, bool trans_b, FloatTensor& y) {
  const int64_t M = y.shape[0], N = y.shape[1];
  const int64_t K = trans_a ? a.shape[0] : a.shape[1];
  y.data.assign(static_cast<size_t>(M * N), 0.0f);
  // A(i,k): row-major [M,K] or, transposed, [K,M]; likewise B(k,j).
  int64_t rsa = trans_a ? 1 : K, csa = trans_a ? M : 1;
  int64_t rsb = trans_b ? 1 : N, csb = trans_b ? K : 1;
  if (weight_product_hook()) {
    // Weights B as [N, K], activations A as [K, M]: Y^T[N, M] = B^T * A^T.
    std::vector<float> wt(static_cast<size_t>(N * K)), xt(static_cast<size_t>(K * M)),
        yt(static_cast<size_t>(N * M));
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t j = 0; j < N; ++j) wt[j * K + k] = b.data[k * rsb + j * csb];
      for (int64_t i = 0; i < M; ++i) xt[k * M + i] = a.data[i * rsa + k * csa];
    }
    weight_product_hook()(N, M, K, wt.data(), xt.data(), yt.data());
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) y.data[i * N + j] = yt[j * M + i];
  } else {
    sgemm_strided(M, N, K, a.data.data(), rsa, csa, b.data.data(), rsb, csb, y.data.data(), N,
                  false);
  }
  if (alpha != 1.0f)
    for (float& v : y.data) v *= alpha;
  if (c && beta != 0.0f) {
    Shape sc = broadcast_strides(c->shape, y.shape);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) y.data[i * N + j] += beta * c->data[i * sc[0] + j * sc[1]];
  }
}

void matmul(const FloatTensor& a, const FloatTensor& b, FloatTensor& y) {
  Shape as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2), batch;
  size_t r = std::max(ab.size(), bb.size());
  batch.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - ab.size() ? 1 : ab[i - (r - ab.size())];
    int64_t db = i < r - bb.size() ? 1 : bb[i - (r - bb.size())];
    batch[i] = std::max(da, db);
  }
  Shape sa = broadcast_strides(ab, batch), sb = broadcast_strides(bb, batch);
  const int64_t nb = numel(batch);
  y.data.assign(static_cast<size_t>(nb * M * N), 0.0f);
  Shape idx(r, 0);
  for (int64_t t = 0; t < nb; ++t) {
    int64_t oa = 0, ob = 0;
    for (size_t d = 0; d < r; ++d) {
      oa += idx[d] * sa[d];
      ob += idx[d] * sb[d];
    }
    sgemm(M, N, K, a.data.data() + oa * M * K, K, b.data.data() + ob * K * N, N,
          y.data.data() + t * M * N, N, false);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
}

void binary(BinaryOp op, const FloatTensor& a, const FloatTensor& b, FloatTensor& y,
            const ir::DType* integer_type) {
  switch (op) {
    case BinaryOp::kAdd: broadcast_apply(a, b, y, [](float u, float v) { return u + v; }); break;
    case BinaryOp::kSub: broadcast_apply(a, b, y, [](float u, float v) { return u - v; }); break;
    case BinaryOp::kMul: broadcast_apply(a, b, y, [](float u, float v) { return u * v; }); break;
    case BinaryOp::kDiv:
      if (integer_type) {
        broadcast_apply(a, b, y, [](float u, float v) {
          if (v == 0.0f) throw InputError("integer division by zero");
          return std::trunc(u / v);
        });
      } else {
        broadcast_apply(a, b, y, [](float u, float v) { return u / v; });
      }
      break;
  }
  if (integer_type)
    for (float& v : y.data) v = wrap_integer(v, *integer_type);
}

void batch_norm(const FloatTensor& x, const FloatTensor& scale, const FloatTensor& bias,
                const FloatTensor& mean, const FloatTensor& var, float epsilon, FloatTensor& y) {
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t S = N * C == 0 ? 0 : numel(x.shape) / (N * C);
  y.data.resize(x.data.size());
  for (int64_t c = 0; c < C; ++c) {
    float k = scale.data[c] / std::sqrt(var.data[c] + epsilon);
    float s = bias.data[c] - mean.data[c] * k;
    for (int64_t n = 0; n < N; ++n) {
      const float* xc = x.data.data() + (n * C + c) * S;
      float* yc = y.data.data() + (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) yc[i] = xc[i] * k + s;
    }
  }
}

void softmax(const FloatTensor& x, int64_t axis, bool coerce_2d, FloatTensor& y) {
  const Shape& s = x.shape;
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    if (i < axis) outer *= s[i];
    else if (i == axis || coerce_2d) len *= s[i];
    else inner *= s[i];
  }
  y.data.resize(x.data.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const float* xp = x.data.data() + o * len * inner + in;
      float* yp = y.data.data() + o * len * inner + in;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < len; ++i) m = std::max(m, xp[i * inner]);
      double sum = 0.0;
      for (int64_t i = 0; i < len; ++i) {
        float e = std::exp(xp[i * inner] - m);
        yp[i * inner] = e;
        sum += e;
      }
      for (int64_t i = 0; i < len; ++i) yp[i * inner] = static_cast<float>(yp[i * inner] / sum);
    }
}

void transpose(const FloatTensor& x, const Shape& perm, FloatTensor& y) {
  const size_t r = perm.size();
  const int64_t n = numel(x.shape);
  y.data.resize(static_cast<size_t>(n));
  if (n == 0) return;
  Shape xs(x.shape.size(), 1);
  for (size_t i = r; i-- > 1;) xs[i - 1] = xs[i] * x.shape[i];
  Shape ys(r), idx(r, 0);  // stride in x of each output dimension
  for (size_t i = 0; i < r; ++i) ys[i] = xs[perm[i]];
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    y.data[i] = x.data[off];
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      off += ys[d];
      if (idx[d] < y.shape[d]) break;
      off -= ys[d] * y.shape[d];
      idx[d] = 0;
    }
  }
}

void concat(const std::vector<const FloatTensor*>& xs, int64_t axis, FloatTensor& y) {
  const Shape& out = y.shape;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= out[i];
  for (size_t i = axis + 1; i < out.size(); ++i) inner *= out[i];
  y.data.resize(static_cast<size_t>(numel(out)));
  int64_t row = out[axis] * inner, at = 0;
  for (const FloatTensor* x : xs) {
    int64_t chunk = x->shape[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::copy(x->data.begin() + o * chunk, x->data.begin() + (o + 1) * chunk, y.data.begin() + o * row + at);
    at += chunk;
  }
}

void gather(const FloatTensor& x, const FloatTensor& indices, int64_t axis, FloatTensor& y) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape[i];
  for (size_t i = axis + 1; i < x.shape.size(); ++i) inner *= x.shape[i];
  const int64_t len = x.shape[axis], ni = static_cast<int64_t>(indices.data.size());
  y.data.resize(static_cast<size_t>(outer * ni * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      // Checked as float first: casting a NaN or a value beyond int64 is undefined (fuzz_onnx).
      const float f = indices.data[j];
      if (!(f >= static_cast<float>(-len) && f < static_cast<float>(len)))
        bad("index " + std::to_string(f) + " out of range [" + std::to_string(-len) + ", " + std::to_string(len) + ")");
      int64_t k = static_cast<int64_t>(f);
      if (k < -len || k >= len)
        bad("index " + std::to_string(k) + " out of range [" + std::to_string(-len) + ", " + std::to_string(len) + ")");
      if (k < 0) k += len;
      std::copy_n(x.data.begin() + (o * len + k) * inner, inner, y.data.begin() + (o * ni + j) * inner);
    }
}

namespace {

// Channel of flat index i along `axis` when a per-axis parameter has `count` entries.
struct AxisIndexer {
  int64_t inner = 1, count = 1;
  AxisIndexer(const Shape& s, int64_t axis, int64_t n) : count(n) {
    if (n > 1)
      for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  }
  int64_t operator()(int64_t i) const { return count > 1 ? (i / inner) % count : 0; }
};

}  // namespace

void quantize_linear(const FloatTensor& x, const FloatTensor& scale, const FloatTensor* zero_point,
                     int64_t axis, float qmin, float qmax, FloatTensor& y) {
  AxisIndexer ch(x.shape, axis, static_cast<int64_t>(scale.data.size()));
  y.data.resize(x.data.size());
  for (size_t i = 0; i < x.data.size(); ++i) {
    int64_t c = ch(static_cast<int64_t>(i));
    float zp = zero_point ? zero_point->data[c] : 0.0f;
    float q = std::nearbyint(x.data[i] / scale.data[c]) + zp;
    y.data[i] = std::clamp(q, qmin, qmax);
  }
}

void dequantize_linear(const FloatTensor& x, const FloatTensor& scale, const FloatTensor* zero_point,
                       int64_t axis, FloatTensor& y) {
  AxisIndexer ch(x.shape, axis, static_cast<int64_t>(scale.data.size()));
  y.data.resize(x.data.size());
  for (size_t i = 0; i < x.data.size(); ++i) {
    int64_t c = ch(static_cast<int64_t>(i));
    float zp = zero_point ? zero_point->data[c] : 0.0f;
    y.data[i] = (x.data[i] - zp) * scale.data[c];
  }
}

void eval_node(const ir::Graph& g, const ir::Node& n, const std::vector<const FloatTensor*>& in,
               std::vector<FloatTensor>& out) {
  using K = ir::OpKind;
  try {
    FloatTensor& y = out.at(0);
    auto unary = [&](auto f) {
      const FloatTensor& x = req(in, 0);
      y.data.resize(x.data.size());
      for (size_t i = 0; i < x.data.size(); ++i) y.data[i] = f(x.data[i]);
    };
    const ir::DType out_type = g.values[n.outputs[0]].dtype;
    const ir::DType* int_type = ir::is_integer(out_type) ? &out_type : nullptr;
    switch (n.kind) {
      case K::kConv: conv(req(in, 0), req(in, 1), opt(in, 2), ir::window_params(n), y); break;
      case K::kMaxPool: max_pool(req(in, 0), ir::window_params(n), y); break;
      case K::kAveragePool: average_pool(req(in, 0), ir::window_params(n), y); break;
      case K::kGlobalAveragePool: global_average_pool(req(in, 0), y); break;
      case K::kGemm:
        gemm(req(in, 0), req(in, 1), opt(in, 2), n.attr_float("alpha", 1.0f), n.attr_float("beta", 1.0f),
             n.attr_int("transA", 0) != 0, n.attr_int("transB", 0) != 0, y);
        break;
      case K::kMatMul: matmul(req(in, 0), req(in, 1), y); break;
      case K::kAdd: binary(BinaryOp::kAdd, req(in, 0), req(in, 1), y, int_type); break;
      case K::kSub: binary(BinaryOp::kSub, req(in, 0), req(in, 1), y, int_type); break;
      case K::kMul: binary(BinaryOp::kMul, req(in, 0), req(in, 1), y, int_type); break;
      case K::kDiv: binary(BinaryOp::kDiv, req(in, 0), req(in, 1), y, int_type); break;
      case K::kRelu: unary([](float v) { return v > 0.0f ? v : 0.0f; }); break;
      case K::kLeakyRelu: {
        float alpha = n.attr_float("alpha", 0.01f);
        unary([alpha](float v) { return v >= 0.0f ? v : v * alpha; });
        break;
      }
      case K::kClip: {
        float lo = n.attr_float("min", -std::numeric_limits<float>::infinity());
        float hi = n.attr_float("max", std::numeric_limits<float>::infinity());
        unary([lo, hi](float v) { return std::min(std::max(v, lo), hi); });
        break;
      }
      case K::kSigmoid: unary([](float v) { return 1.0f / (1.0f + std::exp(-v)); }); break;
      case K::kTanh: unary([](float v) { return std::tanh(v); }); break;
      case K::kIdentity:
      case K::kDropout:
      case K::kFlatten:
      case K::kReshape:
      case K::kSqueeze:
      case K::kUnsqueeze:
        y.data = req(in, 0).data;
        if (n.kind == K::kDropout && out.size() > 1) out[1].data.assign(y.data.size(), 1.0f);
        break;
      case K::kBatchNormalization:
        batch_norm(req(in, 0), req(in, 1), req(in, 2), req(in, 3), req(in, 4), n.attr_float("epsilon", 1e-5f), y);
        break;
      case K::kSoftmax: softmax(req(in, 0), n.attr_int("axis", -1), n.attr_int("coerce_2d", 0) != 0, y); break;
      case K::kTranspose: transpose(req(in, 0), n.attr_ints("perm"), y); break;
      case K::kConcat: {
        std::vector<const FloatTensor*> xs;
        for (size_t i = 0; i < in.size(); ++i) xs.push_back(&req(in, i));
        concat(xs, n.attr_int("axis", 0), y);
        break;
      }
      case K::kGather: gather(req(in, 0), req(in, 1), n.attr_int("axis", 0), y); break;
      case K::kQuantizeLinear: {
        bool u = out_type == ir::DType::kUInt8;
        quantize_linear(req(in, 0), req(in, 1), opt(in, 2), n.attr_int("axis", 1), u ? 0.0f : -128.0f,
                        u ? 255.0f : 127.0f, y);
        break;
      }
      case K::kDequantizeLinear: dequantize_linear(req(in, 0), req(in, 1), opt(in, 2), n.attr_int("axis", 1), y); break;
      case K::kShape: {
        const FloatTensor& x = req(in, 0);
        int64_t s = n.attr_int("start", 0), e = n.attr_int("end", static_cast<int64_t>(x.shape.size()));
        y.data.clear();
        for (int64_t i = s; i < e; ++i) y.data.push_back(static_cast<float>(x.shape[i]));
        break;
      }
      case K::kConstant: bad("Constant nodes are not executed");
    }
  } catch (const InputError& e) {
    throw InputError(g.source + ": node '" + n.name + "' (" + n.op_type + "): " + e.what());
  }
}

}  // namespace cimsim::reference
