// Programs the crossbar tiles of a core on a few threads.
//
// Contract: program_tiles(arch, tiles, seed_streams, threads) returns one entry per tile, in
// order: entry i holds ProgrammedTile(arch, tiles[i], seed_streams[i]), or, when that
// constructor threw, the exception (the caller decides when to rethrow it, so error order
// stays the caller's). Each tile is built from its own seed stream by one thread, so the
// result is the same for any thread count. threads <= 1, or few tiles, programs on the
// calling thread only.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "models/kernels/crossbar_kernel.h"

namespace cimsim::kernels {

struct ProgrammedTileResult {
  std::unique_ptr<ProgrammedTile> tile;
  std::exception_ptr error;
};

std::vector<ProgrammedTileResult> program_tiles(const ArchSpec& arch, const std::vector<TileDesc>& tiles,
                                                const std::vector<uint64_t>& seed_streams, int threads);

// Threads the simulator programs tiles with (1: see the measurement in the .cpp).
int default_programming_threads();

}  // namespace cimsim::kernels
