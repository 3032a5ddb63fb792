// Writing result files so that a reader never sees a half-written one.
//
// Contract: write_file_atomically() writes `content` to PATH.tmp.<pid> and renames it over
// PATH, so PATH is either the old file or the complete new one. Failure throws InputError
// "PATH: cannot write: <reason>" and leaves no temporary file behind.
#pragma once

#include <string>

namespace cimsim {

void write_file_atomically(const std::string& path, const std::string& content);

// The temporary name used for PATH (other writers, e.g. write_npy, use it and then call
// commit_temporary()).
std::string temporary_path_for(const std::string& path);
// Renames temporary_path_for(path) over path; throws InputError on failure (and removes the
// temporary file).
void commit_temporary(const std::string& path);

}  // namespace cimsim
