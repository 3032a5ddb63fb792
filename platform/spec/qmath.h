// Integer arithmetic of the quantized network, defined once.
//
// The reference interpreter (compiler/) and the hardware models (models/) both call these
// functions, so "bit-exact" means "the same function on the same integers". Documented
// in docs/quantization.md; change the two together.
//
// Conventions
//  - Activations: zero point 0. Signed tensors use [-(2^(B-1)), 2^(B-1)-1]; tensors whose
//    producer guarantees x >= 0 (ReLU, Clip(0,..), Sigmoid) are unsigned in [0, 2^B - 1].
//  - Weights: signed symmetric, [-(2^(Bw-1)-1), 2^(Bw-1)-1] (the most negative code is
//    never used, so |w| fits Bw-1 magnitude bits).
//  - Accumulators: int32 products summed in int64 and checked to fit int32 by the compiler.
//  - Real multipliers m > 0 are represented as (multiplier, shift) with
//    m ~= multiplier * 2^-shift, multiplier in [2^30, 2^31).
//  - Rounding of a right shift is round-half-up: floor(x / 2^s + 1/2).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cimsim::qmath {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // 0 encodes the real value 0
  int shift = 0;           // 0..62
};

// Nearest representable (multiplier, shift) to a positive real m. m == 0 gives {0, 0}.
// Throws nothing; out-of-range m saturates to the largest/smallest representable value.
inline QuantizedMultiplier quantize_multiplier(double m) {
  QuantizedMultiplier q;
  if (!(m > 0.0)) return q;
  int exp = 0;
  double frac = std::frexp(m, &exp);  // m = frac * 2^exp, frac in [0.5, 1)
  int64_t mult = static_cast<int64_t>(std::llround(frac * static_cast<double>(int64_t{1} << 31)));
  if (mult == (int64_t{1} << 31)) {  // rounding carried into the next power of two
    mult /= 2;
    ++exp;
  }
  int shift = 31 - exp;
  if (shift > 62) {  // too small: scale the multiplier down instead
    mult >>= std::min(shift - 62, 63);
    shift = 62;
  }
  if (shift < 0) {  // too large to represent: saturate
    mult = (int64_t{1} << 31) - 1;
    shift = 0;
  }
  q.multiplier = static_cast<int32_t>(mult);
  q.shift = shift;
  return q;
}

// floor(x / 2^shift + 1/2) for shift in [0, 62]; arithmetic shift on int64 (GCC/Clang).
inline int64_t round_shift(int64_t x, int shift) {
  if (shift <= 0) return x;
  return (x + (int64_t{1} << (shift - 1))) >> shift;
}

inline int32_t clamp_i32(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, lo), hi));
}

// acc (int32 accumulator incl. bias) -> activation code in [qmin, qmax].
inline int32_t requantize(int64_t acc, QuantizedMultiplier m, int32_t qmin, int32_t qmax) {
  return clamp_i32(round_shift(acc * static_cast<int64_t>(m.multiplier), m.shift), qmin, qmax);
}

// Sum of two codes with their own multipliers that share one shift (residual Add,
// Concat re-scaling): clamp(round_shift(a*ma + b*mb, shift)).
inline int32_t add_requantize(int32_t a, int32_t ma, int32_t b, int32_t mb, int shift, int32_t qmin,
                              int32_t qmax) {
  int64_t acc = static_cast<int64_t>(a) * ma + static_cast<int64_t>(b) * mb;
  return clamp_i32(round_shift(acc, shift), qmin, qmax);
}

// float -> code: round half away from zero, then clamp (input quantization on the host).
inline int32_t quantize_value(float x, float scale, int32_t qmin, int32_t qmax) {
  double v = static_cast<double>(x) / static_cast<double>(scale);
  if (std::isnan(v)) return 0;
  v = std::min(std::max(v, static_cast<double>(qmin)), static_cast<double>(qmax));
  return static_cast<int32_t>(std::lround(v));
}

inline float dequantize_value(int32_t q, float scale) { return static_cast<float>(q) * scale; }

inline int32_t qmin_for(int bits, bool is_unsigned) {
  return is_unsigned ? 0 : -(int32_t{1} << (bits - 1));
}
inline int32_t qmax_for(int bits, bool is_unsigned) {
  return is_unsigned ? (int32_t{1} << bits) - 1 : (int32_t{1} << (bits - 1)) - 1;
}
// Weights never use the most negative code (symmetric range).
inline int32_t weight_qmax(int bits) { return (int32_t{1} << (bits - 1)) - 1; }

}  // namespace cimsim::qmath
