// Up-front checks of the paths one command line reads and writes, so that no output silently
// destroys another output or an input (docs/cli.md "Paths").
//
// Contract: check_paths() compares every pair of uses by their absolute, lexically normal form
// with symlinks of existing prefixes resolved (so "out/../out/x" and a symlink to out/x are
// the same path) and throws InputError "FLAG_A PATH_A and FLAG_B PATH_B: what is wrong" for:
//  - two outputs naming the same file, or an output file equal to or above an output
//    directory (a file cannot also be a directory);
//  - an output file inside an output directory under a name that directory's writer uses
//    (`reserved`), e.g. --output T/energy.csv with --trace-dir T;
//  - an input (file or directory) equal to or inside a directory the command replaces as a
//    whole (compile/run -o DIR), or an output file equal to an input file, or an output file
//    equal to or above a file inside an input directory that the command reads;
// An output directory inside, equal to or above another output directory is allowed: the
// caller must make that work (run stages DIR and writes traces inside it into the staging
// directory). is_inside() is exported for that.
#pragma once

#include <string>
#include <vector>

namespace cimsim::cli {

struct PathUse {
  enum class Kind {
    kInputFile,     // read
    kInputDir,      // read; `reserved` lists the files in it that are read
    kOutputFile,    // written (replaced atomically)
    kOutputDir,     // files `reserved` are written into it; other contents are kept
    kReplacedDir,   // the whole directory is replaced; `reserved` are the files it will hold
  };
  std::string flag;  // "-o", "--trace-dir", "--output", "model", ...
  std::string path;
  Kind kind;
  std::vector<std::string> reserved = {};
};

void check_paths(const std::vector<PathUse>& uses);

// Normal absolute form (see above); `inside` means strictly below.
std::string normal_path(const std::string& path);
bool is_inside(const std::string& path, const std::string& dir);

// What the writers put into the directories (kept here so the checks and docs agree).
const std::vector<std::string>& trace_file_names();
const std::vector<std::string>& program_file_names();

}  // namespace cimsim::cli
