// ADC conversion of one column sum, per range policy (docs/functional-model.md, "ADC").
//
// Contract: the column sum I is in cell-level units (one unit = one input count times one
// cell level). Conversion: x = I * (1 + gain_error) / step + net_offset_lsb, where
// net_offset_lsb = offset_lsb - correction_lsb, formed once in double: the device's systematic
// offset nonideality.adc_offset_lsb minus the tile's correction TileDesc::adc_offset_lsb (a
// trim of the decision thresholds, so it acts before rounding); lossless ADCs return x * step unrounded and unclipped; otherwise
// code = clamp(floor(x + 0.5), 0, 2^bits - 1) and the decoded value is code * step. Only
// clipping at the top counts as a saturation. step = 1 for lsb_aligned and lossless;
// FS / (2^bits - 1) for worst_case and calibrated, FS from adc_full_scale().
#pragma once

#include <cmath>
#include <cstdint>

#include "platform/spec/arch.h"

namespace cimsim::kernels {

// Column-sum full scale of a tile in cell-level units: the worst case
// rows * (2^d - 1) * (2^c - 1), or the tile's calibrated figure when the policy is
// calibrated and that figure is positive.
double adc_full_scale(const ArchSpec& arch, int rows_used, float calibrated_full_scale);

struct AdcModel {
  bool lossless = false;
  double step = 1.0;      // decoded value of one code, cell-level units
  int64_t max_code = 255;
  double gain = 1.0;      // 1 + adc_gain_error
  double offset_lsb = 0.0;      // the device's: nonideality.adc_offset_lsb
  double correction_lsb = 0.0;  // the tile's correction: TileDesc::adc_offset_lsb
  double net_offset_lsb = 0.0;  // offset_lsb - correction_lsb

  // `correction_lsb`: the tile's TileDesc::adc_offset_lsb.
  static AdcModel from_arch(const ArchSpec& arch, int rows_used, float calibrated_full_scale,
                            float correction_lsb = 0.0f);

  // True when decoded values are always integers given integer column sums.
  bool integer_decode() const { return !lossless && step == 1.0; }
  // True when there is neither a device offset nor a correction (both exactly 0).
  bool no_offset() const { return offset_lsb == 0.0 && correction_lsb == 0.0; }
  // True when conversion is the identity on non-negative integer column sums up to max_code.
  bool ideal_integer() const { return step == 1.0 && gain == 1.0 && no_offset(); }

  double convert(double column_sum, int64_t* saturations) const {
    const double x = column_sum * gain / step + net_offset_lsb;
    if (lossless) return x * step;
    double code = std::floor(x + 0.5);
    if (code > static_cast<double>(max_code)) {
      code = static_cast<double>(max_code);
      ++*saturations;
    } else if (code < 0.0) {
      code = 0.0;
    }
    return code * step;
  }
};

}  // namespace cimsim::kernels
