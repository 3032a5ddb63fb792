#include "models/kernels/tile_programming.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace cimsim::kernels {

namespace {

// A helper thread only for cores with at least this many tiles: a 128 x 32 tile takes ~4 us,
// a thread start and join tens of us, and on a busy machine a descheduled helper holding
// the last tile delays the join, so small cores stay on the calling thread.
constexpr size_t kMinTilesPerThread = 16;

}  // namespace

std::vector<ProgrammedTileResult> program_tiles(const ArchSpec& arch, const std::vector<TileDesc>& tiles,
                                                const std::vector<uint64_t>& seed_streams, int threads) {
  if (seed_streams.size() != tiles.size())
    throw std::logic_error("program_tiles: one seed stream per tile expected");
  std::vector<ProgrammedTileResult> out(tiles.size());
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next.fetch_add(1); i < tiles.size(); i = next.fetch_add(1)) {
      try {
        out[i].tile = std::make_unique<ProgrammedTile>(arch, tiles[i], seed_streams[i]);
      } catch (...) {
        out[i].error = std::current_exception();
      }
    }
  };
  const size_t helpers = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)) - 1,
                                          tiles.size() / kMinTilesPerThread);
  std::vector<std::thread> pool;
  try {
    for (size_t t = 0; t < helpers; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // No thread available: the calling thread programs the rest.
  }
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

// One: with programming at ~3 us per 128 x 32 tile (ResNet-18: ~9 ms for 2864 tiles), a
// second thread saves at most ~4 ms on an idle 2-core machine and measured slower on a busy
// one (bench_mvm BM_ProgramTiles: 96 tiles 0.49 ms on 1 thread, 0.71 ms on 2; see
// docs/performance.md).
int default_programming_threads() { return 1; }

}  // namespace cimsim::kernels
