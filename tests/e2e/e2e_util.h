// Helpers for the end-to-end tests: temporary directories, running the cimsim binary, a
// minimal .npy reader/writer and an ONNX model builder.
//
// Contract: everything here is independent of cimsim's own libraries (the tests check the
// binary from the outside): npy I/O handles float32 little-endian C-order version 1.0 files
// only, which is what `cimsim` writes; run_cimsim() returns the process exit code and
// captures stdout/stderr. Paths come from CIMSIM_BINARY_DIR / CIMSIM_SOURCE_DIR.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace e2e {

std::string cimsim_binary();
std::string source_path(const std::string& rel);  // e.g. "configs/tiny.yaml"

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `cimsim ARGS...` (each argument shell-quoted) in working directory `cwd` (empty: this
// process's); stdout/stderr go to files in `scratch` (an absolute path).
RunResult run_cimsim(const std::vector<std::string>& args, const std::string& scratch,
                     const std::string& cwd = "");

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
void write_npy(const std::string& path, const Tensor& t);
// Throws std::runtime_error on anything that is not a float32 v1.0 C-order file.
Tensor read_npy(const std::string& path);

// Deterministic floats with a standard-normal-like spread (sum of uniforms), fixed seed.
std::vector<float> random_data(size_t n, uint32_t seed, float scale = 1.0f);

bool exists(const std::string& path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
// Relative path -> file contents for every regular file below dir.
std::vector<std::pair<std::string, std::string>> dir_contents(const std::string& dir);

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref);
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

// Builds small CNNs through the ONNX protobuf API; weights are random with fixed seeds.
class Model {
 public:
  Model(const std::string& name, std::vector<int64_t> input_shape);
  // Adds a node; returns its (single) output name.
  std::string node(const std::string& op, std::initializer_list<std::string> inputs,
                   std::initializer_list<std::pair<std::string, std::vector<int64_t>>> int_attrs = {},
                   std::initializer_list<std::pair<std::string, float>> float_attrs = {});
  std::string conv(const std::string& x, int64_t cin, int64_t cout, int64_t k,
                   int64_t stride = 1, int64_t pad = 0, int64_t dilation = 1, int64_t group = 1);
  std::string gemm(const std::string& x, int64_t k, int64_t n);
  std::string relu(const std::string& x) { return node("Relu", {x}); }
  std::string initializer(const std::string& base, const std::vector<int64_t>& shape,
                          float scale);
  std::string constant(const std::string& base, const std::vector<int64_t>& shape,
                       const std::vector<float>& values);
  void output(const std::string& name);
  void save(const std::string& path) const;
  const std::vector<int64_t>& input_shape() const { return input_shape_; }

 private:
  onnx::ModelProto model_;
  std::vector<int64_t> input_shape_;
  int counter_ = 0;
  uint32_t seed_ = 1;
};

}  // namespace e2e
