#include "models/kernels/exact_dot.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CIMSIM_X86 1
#endif

namespace cimsim::kernels {

namespace {

void dot_portable(const int8_t* w, const uint8_t* u, int rows_pad, int n, int32_t* out) {
  for (int c = 0; c < n; ++c) {
    const int8_t* wc = w + static_cast<long>(c) * rows_pad;
    int32_t sum = 0;
    for (int r = 0; r < rows_pad; ++r) sum += static_cast<int32_t>(u[r]) * static_cast<int32_t>(wc[r]);
    out[c] = sum;
  }
}

#ifdef CIMSIM_X86
// The 8-bit multiply-add vpmaddubsw would saturate (2 x 255 x 127 > 32767), so AVX2 widens
// both operands to int16 and uses vpmaddwd (adjacent int16 products summed into int32: exact).
__attribute__((target("avx2"))) void dot_avx2(const int8_t* w, const uint8_t* u, int rows_pad,
                                               int n, int32_t* out) {
  int c = 0;
  for (; c + 4 <= n; c += 4) {
    const int8_t* w0 = w + static_cast<long>(c) * rows_pad;
    const int8_t* w1 = w0 + rows_pad;
    const int8_t* w2 = w1 + rows_pad;
    const int8_t* w3 = w2 + rows_pad;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < rows_pad; r += 16) {
#define CIMSIM_LOAD16(p) _mm_loadu_si128(reinterpret_cast<const __m128i*>((p) + r))
      const __m256i xv = _mm256_cvtepu8_epi16(CIMSIM_LOAD16(u));
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(CIMSIM_LOAD16(w0)), xv));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(CIMSIM_LOAD16(w1)), xv));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_cvtepi8_epi16(CIMSIM_LOAD16(w2)), xv));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_cvtepi8_epi16(CIMSIM_LOAD16(w3)), xv));
#undef CIMSIM_LOAD16
    }
    // Four horizontal sums at once: after two hadds each 128-bit half holds (c0, c1, c2, c3).
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), s);
  }
  if (c < n) dot_portable(w + static_cast<long>(c) * rows_pad, u, rows_pad, n - c, out + c);
}

// GCC 12's AVX-512 headers pass _mm*_undefined_* operands that -Wmaybe-uninitialized flags
// (GCC bug 105593, fixed in 13): silenced for the AVX-512 functions only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512bw"))) inline __m256i fold(__m512i a) {
  return _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
}

__attribute__((target("avx512f,avx512bw"))) inline __m128i sum4_512(__m512i a0, __m512i a1,
                                                                     __m512i a2, __m512i a3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(fold(a0), fold(a1)),
                                      _mm256_hadd_epi32(fold(a2), fold(a3)));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

__attribute__((target("avx512f,avx512bw"))) void dot_avx512bw(const int8_t* w, const uint8_t* u,
                                                               int rows_pad, int n, int32_t* out) {
  int c = 0;
  for (; c + 4 <= n; c += 4) {
    const int8_t* w0 = w + static_cast<long>(c) * rows_pad;
    const int8_t* w1 = w0 + rows_pad;
    const int8_t* w2 = w1 + rows_pad;
    const int8_t* w3 = w2 + rows_pad;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < rows_pad; r += 32) {
#define CIMSIM_LOAD32(p) _mm256_loadu_si256(reinterpret_cast<const __m256i*>((p) + r))
      const __m512i xv = _mm512_cvtepu8_epi16(CIMSIM_LOAD32(u));
      a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_cvtepi8_epi16(CIMSIM_LOAD32(w0)), xv));
      a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_cvtepi8_epi16(CIMSIM_LOAD32(w1)), xv));
      a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(_mm512_cvtepi8_epi16(CIMSIM_LOAD32(w2)), xv));
      a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(_mm512_cvtepi8_epi16(CIMSIM_LOAD32(w3)), xv));
#undef CIMSIM_LOAD32
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), sum4_512(a0, a1, a2, a3));
  }
  if (c < n) dot_portable(w + static_cast<long>(c) * rows_pad, u, rows_pad, n - c, out + c);
}

// vpdpbusd: unsigned bytes times signed bytes, four products added into each int32 lane
// without saturation (the non-"s" form), i.e. exactly sum u * w.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void dot_avx512vnni(
    const int8_t* w, const uint8_t* u, int rows_pad, int n, int32_t* out) {
  int c = 0;
  for (; c + 4 <= n; c += 4) {
    const int8_t* w0 = w + static_cast<long>(c) * rows_pad;
    const int8_t* w1 = w0 + rows_pad;
    const int8_t* w2 = w1 + rows_pad;
    const int8_t* w3 = w2 + rows_pad;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < rows_pad; r += 64) {
      const __m512i xv = _mm512_loadu_si512(u + r);
      a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512(w0 + r));
      a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512(w1 + r));
      a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512(w2 + r));
      a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512(w3 + r));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), sum4_512(a0, a1, a2, a3));
  }
  if (c < n) dot_portable(w + static_cast<long>(c) * rows_pad, u, rows_pad, n - c, out + c);
}
#pragma GCC diagnostic pop
#endif

using DotFn = void (*)(const int8_t*, const uint8_t*, int, int, int32_t*);

struct Impl {
  const char* name;
  DotFn fn;
  bool (*supported)();
};

const Impl kImpls[] = {
#ifdef CIMSIM_X86
    {"avx512vnni", dot_avx512vnni,
     [] { return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"); }},
    {"avx512bw", dot_avx512bw, [] { return static_cast<bool>(__builtin_cpu_supports("avx512bw")); }},
    {"avx2", dot_avx2, [] { return static_cast<bool>(__builtin_cpu_supports("avx2")); }},
#endif
    {"portable", dot_portable, [] { return true; }},
};

const Impl& chosen() {
  static const Impl& c = [] () -> const Impl& {
#ifdef CIMSIM_X86
    __builtin_cpu_init();
#endif
    for (const Impl& i : kImpls)
      if (i.supported()) return i;
    return kImpls[sizeof(kImpls) / sizeof(kImpls[0]) - 1];
  }();
  return c;
}

}  // namespace

void exact_dot_columns(const int8_t* w, const uint8_t* u, int rows_pad, int n, int32_t* out) {
  chosen().fn(w, u, rows_pad, n, out);
}

const char* exact_dot_isa() { return chosen().name; }

bool exact_dot_columns_with(const char* isa, const int8_t* w, const uint8_t* u, int rows_pad, int n,
                            int32_t* out) {
  chosen();  // initializes the CPU feature probe
  for (const Impl& i : kImpls)
    if (std::strcmp(i.name, isa) == 0) {
      if (!i.supported()) return false;
      i.fn(w, u, rows_pad, n, out);
      return true;
    }
  return false;
}

}  // namespace cimsim::kernels
