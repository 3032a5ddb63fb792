// `cimsim calibrate`: per-layer ADC full-scale search against the float reference
// (docs/calibration.md).
//
// Contract
//  - Inputs: an ONNX model (its trainable constants replaced by `weights_path` when given:
//    the float reference, the naive and the calibrated deployments all use those), a base arch, samples X (.npy, [N, ...model input shape]), optional
//    labels (.npy, N integer class indices) and optional activation-calibration data for the
//    quantizer (default: X). The base arch's `calibration` section says what is tuned
//    (calibration.adc_full_scale, calibration.adc_offset) and how finely; a key that section
//    does not know is a load error (file:line:col, did-you-mean), so an unknown tunable never
//    runs. Nothing marked tunable, or adc.lossless (no rounding, no range), is an InputError.
//  - Naive deployment: the model compiled for the base arch and simulated on X.
//  - Calibrated deployment: the base arch with adc.range = calibrated (arch_edit.h), compiled
//    once; a global step tries every layer at the same grid point k of its candidates; then,
//    per layer in network order (calibration.passes sweeps), each candidate full
//    scale is written into that layer's TileDescs (TileDesc::adc_full_scale, carried by
//    program.bin) and the whole program is simulated on X by the SystemC chip
//    (simulate_in_memory: the crossbar kernel the simulator always uses; no second model);
//    the candidate with the lowest relative L2 error of the network output vs the float
//    reference is kept (ties keep the current value, so the error never rises). With
//    calibration.adc_offset, each layer's offset correction (TileDesc::adc_offset_lsb) is
//    searched the same way right after its full scale, over calibration.offset_points values
//    in +-calibration.offset_range_lsb, after a global offset step (every layer at the same
//    candidate) that follows the global full-scale step. Start: the naive deployment's ADC range (lsb_aligned
//    -> 2^Ba-1 counts, worst_case -> worst case) and offset correction 0.
//    Deterministic: the arch's nonideality.seed seeds every run.
//  - Output DIR (a program directory `cimsim simulate DIR` runs): the compiled files with the
//    tuned full scales and offsets in program.bin / cores/*.s / cim-ir.yaml (all written by
//    compile() from the tuned program: CompileOptions::tuned_adc), arch.yaml (arch_to_yaml of the tuned arch),
//    calibration.json and calibration.csv (per layer: candidates' range, chosen full scale,
//    error before/after), output.npy (the calibrated outputs on X), summary.md (float vs naive vs calibrated: relative L2 error, mean
//    cosine, top-1 agreement with float, accuracy when labels are given, ADC saturations).
//    Before DIR is written, the staged program is re-run through simulate() from its files;
//    its outputs must equal the search's best outputs bit for bit (else std::runtime_error).
//  - Everything is staged in DIR.cimsim-calibrate and renamed at the end: on any error there
//    is no DIR (an existing DIR is untouched). Bad input throws InputError naming the file.
//    Progress lines go to `log`.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace cimsim {

struct CalibrateOptions {
  std::string model_path, arch_path, inputs_path, labels_path, calibration_path, out_dir;
  // Trained weights (cimsim-weights file, `compile --weights` semantics); empty: the model's
  // own. Applied to the float reference the search minimizes against and to both compiles.
  std::string weights_path;
  std::string mode = "latency";
};

// Agreement of one deployment's outputs with the float reference on the samples.
struct DeploymentMetrics {
  double rel_l2_error = 0;     // ||y - y_float|| / ||y_float|| over the whole batch
  double mean_cosine = 0;      // mean over samples of cos(y_n, y_float_n)
  double top1_agreement = 0;   // fraction of samples whose argmax equals the float argmax
  double accuracy = -1;        // fraction of argmax == label; -1 without labels
  uint64_t adc_saturations = 0, adc_conversions = 0;
};

struct LayerCalibration {
  int layer = 0;                  // index into Program::layers
  std::string name;               // ONNX node name
  int tiles = 0, rows_max = 0;
  double initial_full_scale = 0;  // cell-level units; the naive deployment's range
  double worst_case_full_scale = 0;
  double chosen_full_scale = 0;   // per tile min(chosen, its own worst case)
  double chosen_offset_lsb = 0;   // offset correction of every tile (0 unless adc_offset)
  double error_before = 0, error_after = 0;  // network rel. L2 error around this layer's step
  double error_after_full_scale = 0;         // after its full scale, before its offset (last pass)
};

struct CalibrateResult {
  DeploymentMetrics float_ref, naive, calibrated;
  std::vector<LayerCalibration> layers;
  double naive_start_error = 0;  // the naive ranges on the calibrated arch (= naive's error)
  int global_grid_point = 0;      // 1-based grid point the global step chose; 0: kept the start
  double global_step_error = 0;
  float global_offset_lsb = 0;     // with adc_offset: the correction the global offset step chose
  double global_offset_error = 0;
  int simulations = 0;  // chip runs the search made
};

CalibrateResult calibrate(const CalibrateOptions& opt, std::ostream& log);

// The files calibrate writes into DIR besides the program files (for path checks and docs).
const std::vector<std::string>& calibration_file_names();

}  // namespace cimsim
