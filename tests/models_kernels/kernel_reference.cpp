#include "tests/models_kernels/kernel_reference.h"

#include <cmath>

#include "platform/spec/slicing.h"

namespace cimsim::kernel_test {

ArchSpec make_arch(const ArchParams& p) {
  ArchSpec a;
  a.source_path = "test.yaml";
  a.crossbar.rows = p.rows;
  a.crossbar.cols = p.cols;
  a.crossbar.cell_bits = p.cell_bits;
  a.crossbar.encoding = p.encoding;
  a.crossbar.weight_flip = p.flip;
  a.dac.bits = p.dac_bits;
  a.adc.bits = p.adc_bits;
  a.adc.range = p.range;
  a.adc.lossless = p.lossless;
  a.quantization.weight_bits = p.weight_bits;
  a.quantization.activation_bits = p.activation_bits;
  return a;
}

TileDesc random_tile(const ArchSpec& arch, int rows, int cols, bool input_unsigned,
                     std::mt19937_64& rng) {
  TileDesc t;
  t.rows = rows;
  t.cols = cols;
  t.input_unsigned = input_unsigned;
  const int wmax = (1 << (arch.quantization.weight_bits - 1)) - 1;
  std::uniform_int_distribution<int> dist(-wmax, wmax);
  t.weights.resize(static_cast<size_t>(rows) * cols);
  for (auto& w : t.weights) w = static_cast<int8_t>(dist(rng));
  return t;
}

std::vector<uint8_t> random_inputs(const ArchSpec& arch, int rows, bool input_unsigned,
                                   std::mt19937_64& rng) {
  const int bx = arch.quantization.activation_bits;
  const int lo = input_unsigned ? 0 : -(1 << (bx - 1));
  const int hi = input_unsigned ? (1 << bx) - 1 : (1 << (bx - 1)) - 1;
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<uint8_t> in(rows);
  for (auto& v : in) v = static_cast<uint8_t>(dist(rng));
  return in;
}

namespace {
int64_t input_value(const TileDesc& t, uint8_t code) {
  return t.input_unsigned ? int64_t{code} : int64_t{static_cast<int8_t>(code)};
}
}  // namespace

std::vector<int64_t> naive_dot(const TileDesc& tile, const std::vector<uint8_t>& in) {
  std::vector<int64_t> y(tile.cols, 0);
  for (int r = 0; r < tile.rows; ++r)
    for (int c = 0; c < tile.cols; ++c)
      y[c] += int64_t{tile.weights[static_cast<size_t>(r) * tile.cols + c]} *
              input_value(tile, in[r]);
  return y;
}

std::vector<int64_t> reference_mvm(const ArchSpec& arch, const TileDesc& tile,
                                   const std::vector<uint8_t>& in, int64_t* saturations) {
  const int bw = arch.quantization.weight_bits, bx = arch.quantization.activation_bits;
  const int cb = arch.crossbar.cell_bits, d = arch.dac.bits;
  const auto enc = arch.crossbar.encoding;
  const int top = (1 << cb) - 1;
  const int phys_per_weight = slicing::cells_per_weight(bw, cb, enc);
  const int steps = slicing::input_steps(bx, d);
  const int64_t x_offset = tile.input_unsigned ? 0 : int64_t{1} << (bx - 1);
  const int64_t max_code = (int64_t{1} << arch.adc.bits) - 1;
  double step = 1.0;
  if (!arch.adc.lossless && arch.adc.range != AdcRangePolicy::kLsbAligned) {
    double fs = double(tile.rows) * ((1 << d) - 1) * top;
    if (arch.adc.range == AdcRangePolicy::kCalibrated && tile.adc_full_scale > 0)
      fs = tile.adc_full_scale;
    step = fs / double(max_code);
  }
  const double gain = 1.0 + arch.nonideality.adc_gain_error;
  // The device's offset is added, the tile's correction subtracted (TileDesc::adc_offset_lsb).
  const double offset = arch.nonideality.adc_offset_lsb;
  const double correction = tile.adc_offset_lsb;

  std::vector<int64_t> u(tile.rows);
  for (int r = 0; r < tile.rows; ++r) u[r] = input_value(tile, in[r]) + x_offset;

  std::vector<int64_t> y(tile.cols);
  for (int c = 0; c < tile.cols; ++c) {
    double total = 0;
    for (int s = 0; s < phys_per_weight; ++s) {
      std::vector<int> g(tile.rows);
      int64_t level_sum = 0;
      for (int r = 0; r < tile.rows; ++r) {
        g[r] = slicing::cell_level(tile.weights[size_t(r) * tile.cols + c], s, bw, cb, enc);
        level_sum += g[r];
      }
      const bool flipped = arch.crossbar.weight_flip && 2 * level_sum > int64_t{tile.rows} * top;
      if (flipped)
        for (auto& v : g) v = top - v;
      for (int k = 0; k < steps; ++k) {
        int64_t current = 0, chunk_sum = 0;
        for (int r = 0; r < tile.rows; ++r) {
          const int64_t v = (u[r] >> (k * d)) & ((1 << d) - 1);
          current += v * g[r];
          chunk_sum += v;
        }
        const double x = double(current) * gain / step + offset - correction;
        double decoded;
        if (arch.adc.lossless) {
          decoded = x * step;
        } else {
          double code = std::floor(x + 0.5);
          if (code > double(max_code)) {
            code = double(max_code);
            ++*saturations;
          }
          if (code < 0) code = 0;
          decoded = code * step;
        }
        const double value = flipped ? double(top) * double(chunk_sum) - decoded : decoded;
        total += double(slicing::column_weight(s, bw, cb, enc)) * std::ldexp(value, k * d);
      }
    }
    int64_t u_sum = 0, w_sum = 0;
    for (int r = 0; r < tile.rows; ++r) {
      u_sum += u[r];
      w_sum += tile.weights[size_t(r) * tile.cols + c];
    }
    if (enc == WeightEncoding::kOffset) total -= std::ldexp(double(u_sum), bw - 1);
    total -= double(x_offset * w_sum);
    y[c] = static_cast<int64_t>(std::floor(total + 0.5));
  }
  return y;
}

}  // namespace cimsim::kernel_test
