// program_tiles: the same tiles for any thread count (own seed stream per tile), errors kept
// per tile so the caller can rethrow them in tile order.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "models/kernels/tile_programming.h"
#include "tests/models_kernels/kernel_reference.h"

namespace cimsim::kernel_test {
namespace {

TEST(ProgramTiles, ThreadCountDoesNotChangeCellsOrOutputs) {
  ArchParams p;
  p.flip = true;
  ArchSpec arch = make_arch(p);
  arch.nonideality.programming_noise_sigma = 0.05;  // seeded draws: any mix-up of streams shows
  arch.nonideality.stuck_off_fraction = 0.01;
  std::mt19937_64 rng(5);
  std::vector<TileDesc> tiles;
  std::vector<uint64_t> streams;
  for (int i = 0; i < 40; ++i) {
    tiles.push_back(random_tile(arch, 64, 16, true, rng));
    streams.push_back(1000 + static_cast<uint64_t>(i));
  }
  const auto one = kernels::program_tiles(arch, tiles, streams, 1);
  const auto two = kernels::program_tiles(arch, tiles, streams, 2);
  ASSERT_EQ(one.size(), tiles.size());
  ASSERT_EQ(two.size(), tiles.size());
  for (size_t i = 0; i < tiles.size(); ++i) {
    ASSERT_TRUE(one[i].tile && two[i].tile) << i;
    // Against a tile built directly on this thread from the same stream.
    ProgrammedTile direct(arch, tiles[i], streams[i]);
    for (int r = 0; r < 64; r += 7)
      for (int q = 0; q < direct.physical_columns(); q += 5) {
        ASSERT_EQ(one[i].tile->cell_level(r, q), direct.cell_level(r, q)) << i;
        ASSERT_EQ(two[i].tile->cell_level(r, q), direct.cell_level(r, q)) << i;
      }
    const auto in = random_inputs(arch, 64, true, rng);
    std::vector<int32_t> a(16), b(16), c(16);
    one[i].tile->mvm(in.data(), a.data(), false, nullptr);
    two[i].tile->mvm(in.data(), b.data(), false, nullptr);
    direct.mvm(in.data(), c.data(), false, nullptr);
    EXPECT_EQ(a, c) << i;
    EXPECT_EQ(b, c) << i;
  }
}

TEST(ProgramTiles, ErrorsStayWithTheirTile) {
  const ArchSpec arch = make_arch(ArchParams{});
  std::mt19937_64 rng(9);
  std::vector<TileDesc> tiles;
  for (int i = 0; i < 24; ++i) tiles.push_back(random_tile(arch, 32, 8, true, rng));
  tiles[5].weights[3] = -128;  // outside +-127
  tiles[17].rows = 0;
  const auto res = kernels::program_tiles(arch, tiles, std::vector<uint64_t>(tiles.size(), 1), 2);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const bool bad = i == 5 || i == 17;
    EXPECT_EQ(static_cast<bool>(res[i].error), bad) << i;
    EXPECT_EQ(static_cast<bool>(res[i].tile), !bad) << i;
  }
  EXPECT_THROW(std::rethrow_exception(res[5].error), InputError);
  EXPECT_THROW(kernels::program_tiles(arch, tiles, {1, 2}, 2), std::logic_error);
}

}  // namespace
}  // namespace cimsim::kernel_test
