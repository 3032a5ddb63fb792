#include "platform/spec/directory_replace.h"

#include <fmt/format.h>

#include <filesystem>

#include "platform/spec/arch.h"

namespace cimsim {

void replace_directory(const std::string& staged, const std::string& out) {
  namespace fs = std::filesystem;
  const std::string old = out + ".cimsim-old";
  std::error_code ec;
  fs::remove_all(old, ec);
  if (fs::exists(out)) {
    fs::rename(out, old, ec);
    if (ec) throw InputError(fmt::format("{}: cannot replace: {}", out, ec.message()));
  }
  fs::rename(staged, out, ec);
  if (ec) {
    std::error_code ignored;
    if (fs::exists(old)) fs::rename(old, out, ignored);
    throw InputError(fmt::format("{}: cannot create: {}", out, ec.message()));
  }
  fs::remove_all(old, ec);
}

}  // namespace cimsim
