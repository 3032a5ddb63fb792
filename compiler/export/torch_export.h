// `cimsim export-training`: a self-contained PyTorch module that computes what cimsim computes.
//
// Contract
//  - torch_module_source(g, m, arch, ...) returns the text of one Python file (torch only) for
//    the simplified graph `g` and its quantized model `m = quant::quantize(g, arch.quantization,
//    ...)` (the compiler's own quantizer, so layers, scales, tables and tiling are the
//    compiler's). The file defines `HwModel(torch.nn.Module)`:
//      * parameters = the float values of frontend::trainable_constants(g), named by value,
//        initialised from the model; the weight codes, biases and requantization multipliers
//        are re-derived from them on every forward with quant::quantize()'s formulas;
//      * forward(x): host input quantization, then every layer on integer codes exactly as
//        docs/quantization.md specifies, conv/FC layers as crossbar row tiles
//        (docs/functional-model.md: DAC steps, cell slices, weight flip, ADC range policy and
//        saturation, shift-and-add, corrections, conductance levels, ADC offset/gain); in
//        train mode (or with `model.noise = True`) programming noise, stuck cells and read
//        noise are sampled from the arch figures with a seedable torch.Generator; gradients
//        are straight-through (docs/training.md);
//      * save_weights(path): the trained parameters as a cimsim-weights file
//        (frontend/trained_weights.h) for `cimsim compile/run/reference --weights`.
//    Activation scales are the calibrated ones of `m` (fixed constants in the file).
//  - Per-channel affine layers (BatchNormalization that could not be folded, Mul/Add by a
//    per-channel constant) are kept fixed (their codes baked in). QDQ-annotated weights are
//    not supported: InputError.
//  - A calibrated ADC (adc.range calibrated, not lossless) needs `tuned`: the program of a
//    `cimsim calibrate` directory. Its per-tile TileDesc::adc_full_scale and adc_offset_lsb
//    become per-layer tables keyed by the tile's row count (every tile of one layer with the
//    same rows must carry the same figures, as calibrate writes them; else InputError);
//    the module's eval forward then equals `cimsim simulate DIR`. Without `tuned` a
//    calibrated arch is an InputError pointing at --tuned.
//  - export_training(opt) with `tuned_dir`: the arch is --arch with adc.range = calibrated
//    (what calibrate compiled for); DIR's program must carry that arch's fingerprint, the
//    model's layer names in order and the quantizer's input/output scales, else InputError
//    naming DIR and the mismatch.
//  - export_training(opt) loads model and arch, simplifies, applies `weights_path` if given,
//    quantizes with `calibration_path` (as `cimsim compile`), and writes `out_path`
//    atomically (a temporary, then a rename). Bad input throws InputError naming the file.
#pragma once

#include <ostream>
#include <string>

#include "compiler/frontend/graph.h"
#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim {

struct ExportTrainingOptions {
  std::string model_path, arch_path, out_path, calibration_path, weights_path;
  std::string tuned_dir;  // a `cimsim calibrate` output directory (its ADC full scales/offsets)
};

// `tuned`: the calibrated program whose per-tile ADC figures the module uses (nullptr: none).
std::string torch_module_source(const ir::Graph& g, const q::QModel& m, const ArchSpec& arch,
                                const std::string& model_path, const std::string& arch_path,
                                const Program* tuned = nullptr);

void export_training(const ExportTrainingOptions& opt, std::ostream& log);

}  // namespace cimsim
