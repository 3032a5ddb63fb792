// Functional model of one programmed crossbar tile: the values an MVM produces.
//
// Contract: ProgrammedTile turns a TileDesc's signed weight codes into cell levels with
// platform/spec/slicing.h and the arch's encoding / weight flip, applies the arch's
// non-idealities once at programming time (seeded), and computes MVMs the way the
// hardware does: unsigned DAC steps, per-step column sums, ADC conversion per physical
// column and step (range policy, bits, offset/gain error, read noise), digital shift-and-add
// and corrections. Timing is not modelled here (see models/sc); only values and counts.
//
// With adc.lossless, or when no column can exceed the ADC's count range, and there is no
// non-ideality and no offset correction (TileDesc::adc_offset_lsb == 0), the result equals
// the exact integer dot product sum_r W[r][c] * x[r], and the fast exact path is used. Otherwise the bit-plane (AND + popcount) path quantizes each
// step's column sum; with analog non-idealities a float path is used.
//
// Bad tiles or arch fields throw InputError. The exact math, path choice and random draws
// are documented in docs/functional-model.md.
//
// Deterministic: the same (arch, tile, seed) gives the same cells and the same outputs
// for the same sequence of MVM calls (read noise draws from the tile's own stream).
#pragma once

#include <cstdint>
#include <memory>

#include "models/kernels/shift_add.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim {

// Counts of the analog/mixed-signal actions one or more MVMs performed (for energy).
struct MvmStats {
  int64_t input_steps = 0;      // crossbar activations (one per DAC step)
  int64_t row_drives = 0;       // DAC row drives (rows x steps)
  int64_t adc_conversions = 0;  // physical columns x steps
  int64_t adc_saturations = 0;  // conversions that clipped at the top of the range
  int64_t shift_adds = 0;       // physical column partial sums combined
};

enum class MvmPath { kExact, kBitPlane, kAnalog };

class ProgrammedTile {
 public:
  // `seed_stream` distinguishes tiles: the platform passes hash(nonideality.seed, core, tile index).
  ProgrammedTile(const ArchSpec& arch, const TileDesc& tile, uint64_t seed_stream);
  ~ProgrammedTile();
  ProgrammedTile(ProgrammedTile&&) noexcept;
  ProgrammedTile& operator=(ProgrammedTile&&) noexcept;

  // in: tile.rows activation codes (uint8; reinterpreted as int8 when !tile.input_unsigned).
  // Codes outside quantization.activation_bits throw std::out_of_range (a caller bug).
  // out: tile.cols int32 values, overwritten (accumulate=false) or added to (accumulate=true).
  void mvm(const uint8_t* in, int32_t* out, bool accumulate, MvmStats* stats);

  // The same MVM up to the ADC outputs: fills `job` with the samples the shift-and-add unit
  // combines (models/kernels/shift_add.h), so that shift_add_reference(job, out) gives what
  // mvm(in, out, accumulate, stats) gives, with `accumulate_onto` = the previous out (or
  // nullptr for accumulate=false); stats count the same actions. Computed directly from the
  // cell levels, not on a fast path: it serves RTL co-simulation (docs/cosim.md).
  // Needs integer_samples(); throws std::logic_error otherwise, std::out_of_range as mvm().
  void digitize(const uint8_t* in, const int32_t* accumulate_onto, kernels::ShiftAddJob* job,
                MvmStats* stats);
  // True when every decoded ADC value is an integer count of cell-level units, so it fits a
  // digital unit's code: cells hold integer levels (no programming/read noise, no
  // conductance_levels) and the ADC step is one level (lsb_aligned, or lossless without
  // offset/gain error).
  bool integer_samples() const;

  int rows() const;
  int cols() const;               // weight columns
  int physical_columns() const;   // cols * cells_per_weight
  MvmPath path() const;           // the path mvm() uses (chosen at programming time)
  // Stored level of a cell (after weight flip and programming non-idealities) in cell-level
  // units, 0 .. 2^cell_bits-1 when ideal. Physical column p = c * cells_per_weight + slice.
  double cell_level(int row, int physical_col) const;

  // Test and benchmark hook: make mvm() use `p`. kAnalog is always allowed (float
  // arithmetic on the same cells); kBitPlane whenever no cell non-ideality makes levels
  // real-valued; kExact only where the automatic choice was kExact. Throws std::logic_error
  // otherwise. Results do not change except where the paths' documented arithmetic differs.
  void force_path(MvmPath p);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cimsim
