#include "models/kernels/crossbar_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/kernels/adc_model.h"
#include "models/kernels/exact_dot.h"
#include "models/kernels/kernel_rng.h"
#include "platform/spec/slicing.h"

namespace cimsim {

namespace {

// Salt of the read-noise stream, so read noise is independent of how many draws
// programming consumed.
constexpr uint64_t kReadNoiseSalt = 1;

std::string tile_name(const TileDesc& t) {
  return "crossbar tile (layer " + std::to_string(t.layer) + ", pe " + std::to_string(t.pe) +
         ", crossbar " + std::to_string(t.crossbar) + "): ";
}

std::string arch_name(const ArchSpec& a) {
  return (a.source_path.empty() ? std::string("arch spec") : a.source_path) + ": ";
}

void check_arch(bool ok, const ArchSpec& a, const std::string& what) {
  if (!ok) throw InputError(arch_name(a) + what);
}

void check_tile(bool ok, const TileDesc& t, const std::string& what) {
  if (!ok) throw InputError(tile_name(t) + what);
}

int32_t clamp_int32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// Per weight column of a column-major tile: the sum of its codes and of each cell slice's
// levels before any flip. It sees every weight of the chip at programming time, so it is
// cloned for x86-64-v4 (AVX-512) and AVX2 (picked at load time; integer sums, same result on every
// clone). int32 sums (rows <= 2^16 keep them exact) let the loops vectorize.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void column_sums(
    const int8_t* weights_t, int rows, int rows_pad, int cols, int cells, int weight_bits,
    int cell_bits, WeightEncoding enc, int64_t* weight_sum, int64_t* level_sum) {
  for (int c = 0; c < cols; ++c) {
    const int8_t* w = weights_t + static_cast<size_t>(c) * rows_pad;
    int32_t wsum = 0;
    for (int r = 0; r < rows; ++r) wsum += w[r];
    weight_sum[c] = wsum;
    for (int s = 0; s < cells; ++s) {
      int32_t sum = 0;
      for (int r = 0; r < rows; ++r) sum += slicing::cell_level(w[r], s, weight_bits, cell_bits, enc);
      level_sum[static_cast<size_t>(c) * cells + s] = sum;
    }
  }
}

void validate_arch(const ArchSpec& a) {
  const auto& xb = a.crossbar;
  const auto& ni = a.nonideality;
  check_arch(xb.cell_bits >= 1 && xb.cell_bits <= 8, a, "crossbar.cell_bits must be in 1..8");
  check_arch(a.dac.bits >= 1 && a.dac.bits <= 8, a, "dac.bits must be in 1..8");
  check_arch(a.adc.bits >= 1 && a.adc.bits <= 32, a, "adc.bits must be in 1..32");
  check_arch(a.quantization.weight_bits >= 2 && a.quantization.weight_bits <= 8, a,
             "quantization.weight_bits must be in 2..8");
  check_arch(a.quantization.activation_bits >= 1 && a.quantization.activation_bits <= 8, a,
             "quantization.activation_bits must be in 1..8");
  check_arch(xb.g_max_us > xb.g_min_us && xb.g_min_us >= 0, a,
             "crossbar conductances must satisfy 0 <= g_min_us < g_max_us");
  check_arch(ni.programming_noise_sigma >= 0 && ni.read_noise_sigma >= 0, a,
             "nonideality noise sigmas must be >= 0");
  check_arch(ni.stuck_on_fraction >= 0 && ni.stuck_off_fraction >= 0 &&
                 ni.stuck_on_fraction + ni.stuck_off_fraction <= 1.0,
             a, "nonideality stuck fractions must be >= 0 and sum to at most 1");
  check_arch(ni.conductance_levels == 0 || ni.conductance_levels >= 2, a,
             "nonideality.conductance_levels must be 0 or >= 2");
}

}  // namespace

struct ProgrammedTile::Impl {
  // Geometry and number formats.
  int rows = 0, cols = 0, cells = 0, phys = 0;
  int weight_bits = 0, act_bits = 0, cell_bits = 0, dac_bits = 0, steps = 0;
  WeightEncoding enc = WeightEncoding::kOffset;
  bool input_unsigned = true;
  int64_t input_offset = 0;  // 2^(Bx-1) for signed inputs, else 0
  int level_max = 0;         // 2^c - 1
  MvmPath auto_path = MvmPath::kExact, path = MvmPath::kExact;
  bool analog_cells = false;  // some cell non-ideality makes levels real-valued
  kernels::AdcModel adc;

  // Digital shift-and-add: y_c = sum_k 2^(k d) sum_p signed_weight[p] * decoded(k, p)
  //                              + u_coef[c] * sum_r u[r] - input_offset * weight_sum[c].
  std::vector<int64_t> signed_weight;  // per physical column: -column_weight if flipped
  std::vector<int64_t> u_coef;         // per weight column
  std::vector<int64_t> weight_sum;     // per weight column: sum_r W[r][c]

  // Exact path (and the source of levels built on demand): column-major [c][r], rows padded
  // with zero weights to rows_pad (a multiple of kernels::kExactRowBlock) for the SIMD kernel.
  int rows_pad = 0;
  std::vector<int8_t> weights_t;
  std::vector<uint8_t> flipped;        // per physical column: stores level_max - g
  // Stored integer levels [r][p] (flip, stuck-at applied). Non-exact paths build them at
  // programming time; exact tiles only when a test asks (cell_level, force_path).
  std::vector<uint8_t> levels;
  int words = 0;                       // uint64 words per row bit-plane
  std::vector<uint64_t> cell_planes;   // bit-plane path: [p][j][word]
  std::vector<int> count_shift;        // bit-plane path: [bb * cell_bits + j] = bb + j
  std::vector<float> analog_levels;    // analog path: [r][p], cell-level units
  float read_sigma_levels = 0.0f;
  // Only tiles with read noise own a stream (an mt19937_64 is 2.5 KB and costs a seeding).
  std::unique_ptr<kernels::KernelRng> read_rng;

  // Per-call scratch.
  std::vector<uint8_t> u;
  std::vector<uint8_t> u_pad;          // exact path: u, zero-padded to rows_pad
  std::vector<int32_t> dot32;
  std::vector<int32_t> exact_bias;     // exact path, signed inputs: -128 * weight_sum[c]
  std::vector<uint64_t> input_planes;  // [b][word]
  std::vector<float> column_sum;     // analog path: [k][p]
  std::vector<int64_t> acc_int;
  std::vector<double> acc_real;

  void program(const ArchSpec& arch, const TileDesc& tile, uint64_t seed_stream);
  void ensure_levels();
  void build_cell_planes();
  void build_analog_levels_from_integers();
  void load_inputs(const uint8_t* in);
  void check_input_range(const uint8_t* in) const;
  void run_exact(const uint8_t* in, int32_t* out, bool accumulate);
  void run_bitplane(int64_t* sat);
  template <int kWords>
  void bitplane_columns(int64_t* sat);
  void run_analog(int64_t* sat);
  void add_read_noise();
  void accumulate(int p, int k, double decoded) {
    const int c = p / cells;
    if (adc.integer_decode())
      acc_int[c] += (signed_weight[p] * (int64_t{1} << (k * dac_bits))) * static_cast<int64_t>(decoded);
    else
      acc_real[c] += static_cast<double>(signed_weight[p] * (int64_t{1} << (k * dac_bits))) * decoded;
  }
};

void ProgrammedTile::Impl::program(const ArchSpec& arch, const TileDesc& tile,
                                   uint64_t seed_stream) {
  validate_arch(arch);
  enc = arch.crossbar.encoding;
  weight_bits = arch.quantization.weight_bits;
  act_bits = arch.quantization.activation_bits;
  cell_bits = arch.crossbar.cell_bits;
  dac_bits = arch.dac.bits;
  steps = slicing::input_steps(act_bits, dac_bits);
  cells = slicing::cells_per_weight(weight_bits, cell_bits, enc);
  level_max = (1 << cell_bits) - 1;
  rows = tile.rows;
  cols = tile.cols;
  // 2^16 rows keep every column sum and exact dot product of 8-bit codes inside int32.
  check_tile(rows >= 1 && rows <= arch.crossbar.rows && rows <= 65536, tile,
             "rows " + std::to_string(rows) + " must be in 1.." +
                 std::to_string(arch.crossbar.rows));
  check_tile(cols >= 1 && int64_t{cols} * cells <= arch.crossbar.cols, tile,
             "cols " + std::to_string(cols) + " x " + std::to_string(cells) +
                 " cells per weight must fit the crossbar's " +
                 std::to_string(arch.crossbar.cols) + " columns");
  check_tile(tile.weights.size() == static_cast<size_t>(rows) * cols, tile,
             "expected " + std::to_string(int64_t{rows} * cols) + " weights, got " +
                 std::to_string(tile.weights.size()));
  const int wmax = (1 << (weight_bits - 1)) - 1;
  // This sees every weight of the chip: a vectorizable min/max first, the first bad code
  // (and any formatting) only when there is one.
  int wlo = 0, whi = 0;
  for (const int8_t w : tile.weights) {
    wlo = std::min(wlo, static_cast<int>(w));
    whi = std::max(whi, static_cast<int>(w));
  }
  auto bad = tile.weights.end();
  if (wlo < -wmax || whi > wmax)
    bad = std::find_if(tile.weights.begin(), tile.weights.end(),
                       [wmax](int8_t w) { return w < -wmax || w > wmax; });
  if (bad != tile.weights.end())
    check_tile(false, tile,
               "weight code " + std::to_string(*bad) + " outside +-" + std::to_string(wmax) +
                   " for " + std::to_string(weight_bits) + "-bit weights");
  phys = cols * cells;
  input_unsigned = tile.input_unsigned;
  input_offset = input_unsigned ? 0 : int64_t{1} << (act_bits - 1);
  adc = kernels::AdcModel::from_arch(arch, rows, tile.adc_full_scale, tile.adc_offset_lsb);

  // Weights column-major and zero-padded: the exact kernel's layout, and contiguous per
  // column for the level sums below.
  rows_pad = (rows + kernels::kExactRowBlock - 1) / kernels::kExactRowBlock * kernels::kExactRowBlock;
  weights_t.assign(static_cast<size_t>(cols) * rows_pad, 0);
  {
    // Locals: int8 stores may alias this object's members, which would reload them per element.
    const int n_rows = rows, n_cols = cols;
    const size_t stride = static_cast<size_t>(rows_pad);
    const int8_t* src = tile.weights.data();
    int8_t* dst = weights_t.data();
    // Eight rows at a time: one 8-byte store per column instead of eight strided byte stores.
    int r = 0;
    for (; r + 8 <= n_rows; r += 8, src += 8 * static_cast<size_t>(n_cols))
      for (int c = 0; c < n_cols; ++c) {
        int8_t eight[8];
        for (int k = 0; k < 8; ++k) eight[k] = src[static_cast<size_t>(k) * n_cols + c];
        std::memcpy(dst + c * stride + r, eight, 8);
      }
    for (; r < n_rows; ++r, src += n_cols)
      for (int c = 0; c < n_cols; ++c) dst[c * stride + r] = src[c];
  }

  // Column level sums before non-idealities decide the weight flip; the levels themselves
  // are materialized only for the paths that read them.
  std::vector<int64_t> column_level_sum(phys, 0);
  signed_weight.assign(phys, 0);
  flipped.assign(phys, 0);
  u_coef.assign(cols, enc == WeightEncoding::kOffset ? -(int64_t{1} << (weight_bits - 1)) : 0);
  weight_sum.assign(cols, 0);
  column_sums(weights_t.data(), rows, rows_pad, cols, cells, weight_bits, cell_bits, enc,
              weight_sum.data(), column_level_sum.data());
  for (int p = 0; p < phys; ++p) {
    const int64_t cw = slicing::column_weight(p % cells, weight_bits, cell_bits, enc);
    const bool flip =
        arch.crossbar.weight_flip && 2 * column_level_sum[p] > int64_t{rows} * level_max;
    signed_weight[p] = flip ? -cw : cw;
    if (flip) {
      flipped[p] = 1;
      u_coef[p / cells] += cw * level_max;
      column_level_sum[p] = int64_t{rows} * level_max - column_level_sum[p];
    }
  }

  // Path: exact when the ADC can never change a column sum.
  const auto& ni = arch.nonideality;
  const int64_t input_chunk_max = std::min((1 << dac_bits) - 1, (1 << act_bits) - 1);
  bool fits = !arch.adc.lossless && arch.adc.range == AdcRangePolicy::kLsbAligned;
  for (int p = 0; p < phys && fits; ++p)
    fits = input_chunk_max * column_level_sum[p] <= adc.max_code;
  analog_cells = ni.programming_noise_sigma > 0 || ni.read_noise_sigma > 0 ||
                 ni.conductance_levels > 0;
  // A tile's offset correction changes conversions like a device offset does.
  if (!ni.any() && adc.no_offset() && (arch.adc.lossless || fits))
    auto_path = MvmPath::kExact;
  else
    auto_path = analog_cells ? MvmPath::kAnalog : MvmPath::kBitPlane;
  path = auto_path;
  if (auto_path != MvmPath::kExact) {
    ensure_levels();
    weights_t = std::vector<int8_t>();  // only the exact path and on-demand levels read it
  }

  // Non-idealities, drawn once per cell in row-major order (docs/functional-model.md).
  // Any of them makes the path non-exact, so the levels exist here.
  const bool stuck = ni.stuck_on_fraction > 0 || ni.stuck_off_fraction > 0;
  if (analog_cells) analog_levels.assign(levels.size(), 0.0f);
  if (analog_cells || stuck) {
    kernels::KernelRng rng(seed_stream);
    const double g_range = arch.crossbar.g_max_us - arch.crossbar.g_min_us;
    const double zero_conductance_level = -arch.crossbar.g_min_us / g_range * level_max;
    const double prog_sigma_levels = ni.programming_noise_sigma * level_max;
    for (size_t i = 0; i < levels.size(); ++i) {
      double level = levels[i];
      if (ni.conductance_levels > 0) {
        const double steps_avail = ni.conductance_levels - 1;
        level = std::floor(level / level_max * steps_avail + 0.5) / steps_avail * level_max;
      }
      if (ni.programming_noise_sigma > 0)
        level = std::max(level + prog_sigma_levels * rng.normal(), zero_conductance_level);
      if (stuck) {
        const double draw = rng.uniform();
        if (draw < ni.stuck_on_fraction) {
          level = level_max;
          levels[i] = static_cast<uint8_t>(level_max);
        } else if (draw < ni.stuck_on_fraction + ni.stuck_off_fraction) {
          level = 0;
          levels[i] = 0;
        }
      }
      if (analog_cells) analog_levels[i] = static_cast<float>(level);
    }
  }
  read_sigma_levels = static_cast<float>(ni.read_noise_sigma * level_max);
  if (read_sigma_levels > 0)
    read_rng = std::make_unique<kernels::KernelRng>(kernels::derive_seed(seed_stream, kReadNoiseSalt));

  words = (rows + 63) / 64;
  // Bit planes serve only the bit-plane path; exact tiles build them if a test forces that path.
  if (auto_path == MvmPath::kBitPlane) build_cell_planes();
  for (int bb = 0; bb < dac_bits; ++bb)
    for (int j = 0; j < cell_bits; ++j) count_shift.push_back(bb + j);
  u.assign(rows, 0);
  u_pad.assign(rows_pad, 0);
  dot32.assign(cols, 0);
  if (!input_unsigned) {
    exact_bias.resize(cols);
    for (int c = 0; c < cols; ++c) exact_bias[c] = static_cast<int32_t>(-128 * weight_sum[c]);
  }
  input_planes.assign(static_cast<size_t>(act_bits) * words, 0);
  acc_int.assign(cols, 0);
  acc_real.assign(cols, 0.0);
}

void ProgrammedTile::Impl::ensure_levels() {
  if (!levels.empty()) return;
  levels.assign(static_cast<size_t>(rows) * phys, 0);
  for (int c = 0; c < cols; ++c) {
    const int8_t* w = weights_t.data() + static_cast<size_t>(c) * rows_pad;
    for (int s = 0; s < cells; ++s) {
      const int p = c * cells + s;
      for (int r = 0; r < rows; ++r) {
        const int g = slicing::cell_level(w[r], s, weight_bits, cell_bits, enc);
        levels[static_cast<size_t>(r) * phys + p] = static_cast<uint8_t>(flipped[p] ? level_max - g : g);
      }
    }
  }
}

void ProgrammedTile::Impl::build_cell_planes() {
  cell_planes.assign(static_cast<size_t>(phys) * cell_bits * words, 0);
  for (int r = 0; r < rows; ++r)
    for (int p = 0; p < phys; ++p) {
      const int g = levels[static_cast<size_t>(r) * phys + p];
      for (int j = 0; j < cell_bits; ++j)
        if ((g >> j) & 1)
          cell_planes[(static_cast<size_t>(p) * cell_bits + j) * words + r / 64] |=
              uint64_t{1} << (r % 64);
    }
}

void ProgrammedTile::Impl::build_analog_levels_from_integers() {
  if (!analog_levels.empty()) return;
  ensure_levels();
  analog_levels.assign(levels.begin(), levels.end());
}

// Every 8-bit code is in range (unsigned as is, signed after the offset), so only narrower
// activations need the check, and it scans for the first bad row only after a fast test.
void ProgrammedTile::Impl::check_input_range(const uint8_t* in) const {
  if (act_bits >= 8) return;
  const int code_max = (1 << act_bits) - 1;
  bool ok = true;
  if (input_unsigned) {
    uint8_t hi = 0;
    for (int r = 0; r < rows; ++r) hi = std::max(hi, in[r]);
    ok = hi <= code_max;
  } else {
    int lo = 0, hi = 0;
    for (int r = 0; r < rows; ++r) {
      lo = std::min(lo, static_cast<int>(static_cast<int8_t>(in[r])));
      hi = std::max(hi, static_cast<int>(static_cast<int8_t>(in[r])));
    }
    ok = lo + input_offset >= 0 && hi + input_offset <= code_max;
  }
  if (ok) return;
  for (int r = 0; r < rows; ++r) {
    const int v = input_unsigned ? in[r] : static_cast<int>(static_cast<int8_t>(in[r])) + static_cast<int>(input_offset);
    if (v < 0 || v > code_max)
      throw std::out_of_range("crossbar mvm: input code at row " + std::to_string(r) +
                              " is outside the " + std::to_string(act_bits) + "-bit " +
                              (input_unsigned ? "unsigned" : "signed") + " range");
  }
}

void ProgrammedTile::Impl::load_inputs(const uint8_t* in) {
  check_input_range(in);
  for (int r = 0; r < rows; ++r)
    u[r] = static_cast<uint8_t>(input_unsigned ? in[r] : static_cast<int8_t>(in[r]) + input_offset);
}

// The kernel multiplies unsigned bytes: signed codes x go in as x + 128 (the sign bit
// flipped, whatever activation_bits is), and 128 * sum_r W[r][c] comes off again.
void ProgrammedTile::Impl::run_exact(const uint8_t* in, int32_t* out, bool accumulate) {
  check_input_range(in);
  if (input_unsigned)
    std::memcpy(u_pad.data(), in, static_cast<size_t>(rows));
  else
    for (int r = 0; r < rows; ++r) u_pad[r] = static_cast<uint8_t>(in[r] ^ 0x80u);
  // y = sum_r x[r] W[r][c] fits int32 (|y| <= 128 * 127 * 2^16 signed, 255 * 127 * 2^16
  // unsigned), so it is formed in int32: the dot product, plus the signed offset's bias
  // added modulo 2^32 (exact because the true y fits), then a saturating add when
  // accumulating, which equals clamping the int64 sum.
  const int n = cols;
  int32_t* y = accumulate ? dot32.data() : out;
  kernels::exact_dot_columns(weights_t.data(), u_pad.data(), rows_pad, n, y);
  if (!input_unsigned) {
    const int32_t* bias = exact_bias.data();
    for (int c = 0; c < n; ++c)
      y[c] = static_cast<int32_t>(static_cast<uint32_t>(y[c]) + static_cast<uint32_t>(bias[c]));
  }
  if (accumulate)
    for (int c = 0; c < n; ++c) {
      const int32_t a = out[c], b = y[c];
      const int32_t sum = static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
      const bool overflow = ((a ^ sum) & (b ^ sum)) < 0;
      const int32_t limit = a < 0 ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max();
      out[c] = overflow ? limit : sum;
    }
}

// counts[b * cell_bits + j] = popcount(input plane b AND cell plane j) for one physical
// column. kWords > 0 fixes the row words at compile time so the inner loop unrolls.
template <int kWords>
void plane_counts(const uint64_t* x, const uint64_t* g, int act_bits, int cell_bits, int words,
                  int32_t* counts) {
  const int n = kWords > 0 ? kWords : words;
  for (int b = 0; b < act_bits; ++b)
    for (int j = 0; j < cell_bits; ++j) {
      int32_t sum = 0;
      for (int w = 0; w < n; ++w) sum += __builtin_popcountll(x[b * n + w] & g[j * n + w]);
      counts[b * cell_bits + j] = sum;
    }
}

void ProgrammedTile::Impl::run_bitplane(int64_t* sat) {
  // Input bit-planes, branch-free: plane b, word w holds bit b of rows 64w .. 64w+63.
  for (int w = 0; w < words; ++w) {
    const int r_end = std::min(rows, 64 * (w + 1));
    for (int b = 0; b < act_bits; ++b) {
      uint64_t plane = 0;
      for (int r = 64 * w; r < r_end; ++r) plane |= uint64_t{(u[r] >> b) & 1u} << (r - 64 * w);
      input_planes[static_cast<size_t>(b) * words + w] = plane;
    }
  }
  switch (words) {
    case 1: bitplane_columns<1>(sat); break;
    case 2: bitplane_columns<2>(sat); break;
    case 4: bitplane_columns<4>(sat); break;
    case 8: bitplane_columns<8>(sat); break;
    default: bitplane_columns<0>(sat); break;
  }
}

template <int kWords>
void ProgrammedTile::Impl::bitplane_columns(int64_t* sat) {
  int32_t counts[8 * 8];
  const bool plain_counts = adc.integer_decode() && adc.ideal_integer();
  const int per_step = dac_bits * cell_bits;
  const int total = act_bits * cell_bits;
  const int64_t max_code = adc.max_code;
  int64_t saturations = 0;
  for (int c = 0, p = 0; c < cols; ++c) {
    int64_t acc = 0;
    for (int s = 0; s < cells; ++s, ++p) {
      plane_counts<kWords>(input_planes.data(),
                           cell_planes.data() + static_cast<size_t>(p) * cell_bits * words,
                           act_bits, cell_bits, words, counts);
      const int64_t weight = signed_weight[p];
      // Step k combines counts[k * per_step ..] with shifts (b - k d) + j.
      for (int k = 0, begin = 0; k < steps; ++k, begin += per_step) {
        const int n = std::min(per_step, total - begin);
        int64_t column = 0;
        for (int e = 0; e < n; ++e) column += int64_t{counts[begin + e]} << count_shift[e];
        if (plain_counts) {
          if (column > max_code) {
            column = max_code;
            ++saturations;
          }
          acc += weight * (int64_t{1} << (k * dac_bits)) * column;
        } else {
          accumulate(p, k, adc.convert(static_cast<double>(column), &saturations));
        }
      }
    }
    acc_int[c] += acc;
  }
  *sat += saturations;
}

void ProgrammedTile::Impl::run_analog(int64_t* sat) {
  const int chunk_mask = (1 << dac_bits) - 1;
  const float* cell = analog_levels.data();
  // Sized on first use: only analog tiles need it (4 KB per 128-column tile).
  column_sum.assign(static_cast<size_t>(steps) * phys, 0.0f);
  for (int k = 0; k < steps; ++k) {
    float* sum = column_sum.data() + static_cast<size_t>(k) * phys;
    for (int r = 0; r < rows; ++r) {
      const int v = (u[r] >> (k * dac_bits)) & chunk_mask;
      if (v == 0) continue;
      const float fv = static_cast<float>(v);
      const float* row = cell + static_cast<size_t>(r) * phys;
      for (int p = 0; p < phys; ++p) sum[p] += fv * row[p];
    }
  }
  if (read_sigma_levels > 0) add_read_noise();
  for (int k = 0; k < steps; ++k) {
    const float* sum = column_sum.data() + static_cast<size_t>(k) * phys;
    for (int p = 0; p < phys; ++p) accumulate(p, k, adc.convert(sum[p], sat));
  }
}

// Read noise n[r][p] ~ N(0, s^2) per cell per MVM enters step k's column sum as
// sum_r v_k[r] n[r][p]. For one column these T sums are jointly Gaussian with covariance
// S[k][l] = s^2 sum_r v_k[r] v_l[r], the same for every column; so instead of rows x columns
// draws we draw T per column and multiply by a Cholesky factor of S: same distribution,
// rows / T times fewer draws.
void ProgrammedTile::Impl::add_read_noise() {
  const int chunk_mask = (1 << dac_bits) - 1;
  double cov[8][8] = {};
  for (int r = 0; r < rows; ++r) {
    int v[8];
    for (int k = 0; k < steps; ++k) v[k] = (u[r] >> (k * dac_bits)) & chunk_mask;
    for (int k = 0; k < steps; ++k)
      for (int l = 0; l <= k; ++l) cov[k][l] += v[k] * v[l];
  }
  const double var = double(read_sigma_levels) * double(read_sigma_levels);
  // Cholesky of a positive semi-definite matrix: a pivot that is zero up to rounding (an
  // all-zero step, or a step equal to a combination of earlier ones) gets a zero column.
  double chol[8][8] = {};
  for (int j = 0; j < steps; ++j) {
    double d = cov[j][j] * var;
    for (int m = 0; m < j; ++m) d -= chol[j][m] * chol[j][m];
    if (d <= 1e-9 * cov[j][j] * var) continue;
    chol[j][j] = std::sqrt(d);
    for (int i = j + 1; i < steps; ++i) {
      double x = cov[i][j] * var;
      for (int m = 0; m < j; ++m) x -= chol[i][m] * chol[j][m];
      chol[i][j] = x / chol[j][j];
    }
  }
  double z[8];
  for (int p = 0; p < phys; ++p) {
    for (int k = 0; k < steps; ++k) z[k] = read_rng->normal();
    for (int k = 0; k < steps; ++k) {
      double n = 0;
      for (int l = 0; l <= k; ++l) n += chol[k][l] * z[l];
      column_sum[static_cast<size_t>(k) * phys + p] += static_cast<float>(n);
    }
  }
}

ProgrammedTile::ProgrammedTile(const ArchSpec& arch, const TileDesc& tile, uint64_t seed_stream)
    : impl_(std::make_unique<Impl>()) {
  impl_->program(arch, tile, seed_stream);
}

ProgrammedTile::~ProgrammedTile() = default;
ProgrammedTile::ProgrammedTile(ProgrammedTile&&) noexcept = default;
ProgrammedTile& ProgrammedTile::operator=(ProgrammedTile&&) noexcept = default;

void ProgrammedTile::mvm(const uint8_t* in, int32_t* out, bool accumulate, MvmStats* stats) {
  Impl& t = *impl_;
  int64_t saturations = 0;
  if (t.path == MvmPath::kExact) {
    t.run_exact(in, out, accumulate);
  } else {
    t.load_inputs(in);
    std::fill(t.acc_int.begin(), t.acc_int.end(), 0);
    std::fill(t.acc_real.begin(), t.acc_real.end(), 0.0);
    if (t.path == MvmPath::kBitPlane)
      t.run_bitplane(&saturations);
    else
      t.run_analog(&saturations);
    int64_t u_sum = 0;
    for (int r = 0; r < t.rows; ++r) u_sum += t.u[r];
    for (int c = 0; c < t.cols; ++c) {
      const int64_t correction = t.u_coef[c] * u_sum - t.input_offset * t.weight_sum[c];
      int64_t y;
      if (t.adc.integer_decode()) {
        y = t.acc_int[c] + correction;
      } else {
        const double real = std::floor(t.acc_real[c] + static_cast<double>(correction) + 0.5);
        y = static_cast<int64_t>(std::clamp(real, -0x1.0p62, 0x1.0p62));
      }
      out[c] = clamp_int32((accumulate ? int64_t{out[c]} : 0) + y);
    }
  }
  if (stats) {
    stats->input_steps += t.steps;
    stats->row_drives += int64_t{t.rows} * t.steps;
    stats->adc_conversions += int64_t{t.phys} * t.steps;
    stats->adc_saturations += saturations;
    stats->shift_adds += int64_t{t.phys} * t.steps;
  }
}

bool ProgrammedTile::integer_samples() const {
  const Impl& t = *impl_;
  return !t.analog_cells && t.adc.step == 1.0 &&
         (!t.adc.lossless || (t.adc.gain == 1.0 && t.adc.no_offset()));
}

void ProgrammedTile::digitize(const uint8_t* in, const int32_t* accumulate_onto,
                              kernels::ShiftAddJob* job, MvmStats* stats) {
  Impl& t = *impl_;
  if (!integer_samples())
    throw std::logic_error("ProgrammedTile::digitize: this tile's ADC values are not integers");
  t.load_inputs(in);
  t.ensure_levels();
  // Column sums per DAC step and physical column, from the stored integer levels.
  const int chunk_mask = (1 << t.dac_bits) - 1;
  std::vector<int64_t> sums(static_cast<size_t>(t.steps) * t.phys, 0);
  int64_t u_sum = 0;
  for (int r = 0; r < t.rows; ++r) {
    u_sum += t.u[r];
    const uint8_t* row = t.levels.data() + static_cast<size_t>(r) * t.phys;
    for (int k = 0; k < t.steps; ++k) {
      const int v = (t.u[r] >> (k * t.dac_bits)) & chunk_mask;
      if (v == 0) continue;
      int64_t* sum = sums.data() + static_cast<size_t>(k) * t.phys;
      for (int p = 0; p < t.phys; ++p) sum[p] += int64_t{v} * row[p];
    }
  }
  job->cols = t.cols;
  job->samples_per_column = t.cells * t.steps;
  job->samples.resize(static_cast<size_t>(t.cols) * job->samples_per_column);
  job->bias.resize(static_cast<size_t>(t.cols));
  int64_t saturations = 0;
  kernels::ShiftAddSample* out = job->samples.data();
  for (int c = 0; c < t.cols; ++c) {
    job->bias[static_cast<size_t>(c)] = t.u_coef[c] * u_sum - t.input_offset * t.weight_sum[c] +
                                        (accumulate_onto ? accumulate_onto[c] : 0);
    for (int s = 0; s < t.cells; ++s) {
      const int p = c * t.cells + s;
      const int64_t w = t.signed_weight[p];  // +-2^m
      const int m = __builtin_ctzll(static_cast<uint64_t>(w < 0 ? -w : w));
      for (int k = 0; k < t.steps; ++k, ++out) {
        // An integer in 0 .. 2^32 - 1: max_code < 2^32, and lossless sums stay below
        // 2^16 rows x 255 x 255.
        const double decoded =
            t.adc.convert(static_cast<double>(sums[static_cast<size_t>(k) * t.phys + p]), &saturations);
        out->code = static_cast<uint32_t>(decoded);
        out->shift = static_cast<uint8_t>(m + k * t.dac_bits);
        out->negate = w < 0;
        out->first = s == 0 && k == 0;
        out->last = s == t.cells - 1 && k == t.steps - 1;
      }
    }
  }
  if (stats) {
    stats->input_steps += t.steps;
    stats->row_drives += int64_t{t.rows} * t.steps;
    stats->adc_conversions += int64_t{t.phys} * t.steps;
    stats->adc_saturations += saturations;
    stats->shift_adds += int64_t{t.phys} * t.steps;
  }
}

int ProgrammedTile::rows() const { return impl_->rows; }
int ProgrammedTile::cols() const { return impl_->cols; }
int ProgrammedTile::physical_columns() const { return impl_->phys; }
MvmPath ProgrammedTile::path() const { return impl_->path; }

double ProgrammedTile::cell_level(int row, int physical_col) const {
  const Impl& t = *impl_;
  if (row < 0 || row >= t.rows || physical_col < 0 || physical_col >= t.phys)
    throw std::out_of_range("ProgrammedTile::cell_level: cell outside the tile");
  const size_t i = static_cast<size_t>(row) * t.phys + physical_col;
  if (!t.analog_levels.empty()) return t.analog_levels[i];
  impl_->ensure_levels();
  return t.levels[i];
}

void ProgrammedTile::force_path(MvmPath p) {
  Impl& t = *impl_;
  switch (p) {
    case MvmPath::kExact:
      if (t.auto_path != MvmPath::kExact)
        throw std::logic_error("force_path(kExact): the ADC or non-idealities change results");
      break;
    case MvmPath::kBitPlane:
      if (t.analog_cells)
        throw std::logic_error("force_path(kBitPlane): cell levels are real-valued");
      if (t.cell_planes.empty()) {
        t.ensure_levels();
        t.build_cell_planes();
      }
      break;
    case MvmPath::kAnalog:
      t.build_analog_levels_from_integers();
      break;
  }
  t.path = p;
}

}  // namespace cimsim
