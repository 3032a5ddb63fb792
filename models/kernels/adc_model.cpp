#include "models/kernels/adc_model.h"

namespace cimsim::kernels {

double adc_full_scale(const ArchSpec& arch, int rows_used, float calibrated_full_scale) {
  if (arch.adc.range == AdcRangePolicy::kCalibrated && calibrated_full_scale > 0.0f)
    return static_cast<double>(calibrated_full_scale);
  const double input_max = static_cast<double>((1 << arch.dac.bits) - 1);
  const double level_max = static_cast<double>((1 << arch.crossbar.cell_bits) - 1);
  return static_cast<double>(rows_used) * input_max * level_max;
}

AdcModel AdcModel::from_arch(const ArchSpec& arch, int rows_used, float calibrated_full_scale,
                             float correction_lsb) {
  AdcModel m;
  m.lossless = arch.adc.lossless;
  m.max_code = (int64_t{1} << arch.adc.bits) - 1;
  m.gain = 1.0 + arch.nonideality.adc_gain_error;
  m.offset_lsb = arch.nonideality.adc_offset_lsb;
  m.correction_lsb = static_cast<double>(correction_lsb);
  m.net_offset_lsb = m.offset_lsb - m.correction_lsb;
  if (!m.lossless && arch.adc.range != AdcRangePolicy::kLsbAligned)
    m.step = adc_full_scale(arch, rows_used, calibrated_full_scale) /
             static_cast<double>(m.max_code);
  return m;
}

}  // namespace cimsim::kernels
