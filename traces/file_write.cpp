#include "traces/file_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "platform/spec/arch.h"

namespace cimsim {

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(static_cast<long>(getpid()));
}

void commit_temporary(const std::string& path) {
  std::string tmp = temporary_path_for(path);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot write: " + reason);
  }
}

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = temporary_path_for(path);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (f) f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.flush();
    if (!f) {
      std::string reason = errno ? std::strerror(errno) : "write failed";
      f.close();
      std::remove(tmp.c_str());
      throw InputError(path + ": cannot write: " + reason);
    }
  }
  commit_temporary(path);
}

}  // namespace cimsim
