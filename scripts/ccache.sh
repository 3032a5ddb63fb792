# Sourced by scripts/build, ci-asan and ci-fuzz (after they set $root): when ccache is installed
# (scripts/setup --optional), compile through it, with paths relative to the checkout so that
# rebuilds and other clones of the repository hit the same cache. CIMSIM_NO_CCACHE=1 turns it off.
# Sets the array cmake_launcher (empty without ccache) for the cmake configure line.
cmake_launcher=()
if [[ -z "${CIMSIM_NO_CCACHE:-}" ]] && command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root"
  # Debug builds (ASan, fuzz) would otherwise hash the working directory and miss in every new
  # clone; the price is that their debug info may name another clone's directory (symbols and
  # line numbers in sanitizer reports stay right).
  export CCACHE_NOHASHDIR=1
  cmake_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
