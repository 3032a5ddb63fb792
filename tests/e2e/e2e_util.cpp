#include "tests/e2e/e2e_util.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace e2e {

std::string cimsim_binary() { return std::string(CIMSIM_BINARY_DIR) + "/bin/cimsim"; }
std::string source_path(const std::string& rel) { return std::string(CIMSIM_SOURCE_DIR) + "/" + rel; }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "cimsim-e2e-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  // Debugging aid: CIMSIM_E2E_KEEP=1 keeps the models, inputs and outputs of a failing case.
  if (std::getenv("CIMSIM_E2E_KEEP")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}
}  // namespace

RunResult run_cimsim(const std::vector<std::string>& args, const std::string& scratch,
                     const std::string& cwd) {
  std::string cmd = (cwd.empty() ? "" : "cd " + quote(cwd) + " && ") + quote(cimsim_binary());
  for (const auto& a : args) cmd += " " + quote(a);
  const std::string out = scratch + "/.stdout", err = scratch + "/.stderr";
  cmd += " >" + quote(out) + " 2>" + quote(err) + " </dev/null";
  RunResult r;
  int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    shape += std::to_string(t.shape[i]);
    shape += (t.shape.size() == 1 || i + 1 < t.shape.size()) ? "," : "";
    if (i + 1 < t.shape.size()) shape += " ";
  }
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
  write_file(path, bytes);
}

Tensor read_npy(const std::string& path) {
  std::string b = read_file(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0 || b[6] != 1)
    throw std::runtime_error(path + ": not a version 1.0 .npy");
  size_t hlen = static_cast<uint8_t>(b[8]) | (static_cast<size_t>(static_cast<uint8_t>(b[9])) << 8);
  std::string header = b.substr(10, hlen);
  if (header.find("'<f4'") == std::string::npos || header.find("False") == std::string::npos)
    throw std::runtime_error(path + ": not float32 C order: " + header);
  Tensor t;
  size_t open = header.find('(', header.find("'shape'"));
  size_t close = header.find(')', open);
  std::stringstream ss(header.substr(open + 1, close - open - 1));
  std::string item;
  int64_t count = 1;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    t.shape.push_back(std::stoll(item));
    count *= t.shape.back();
  }
  if (b.size() != 10 + hlen + static_cast<size_t>(count) * 4)
    throw std::runtime_error(path + ": data size does not match the shape");
  t.data.resize(static_cast<size_t>(count));
  std::memcpy(t.data.data(), b.data() + 10 + hlen, t.data.size() * 4);
  return t;
}

std::vector<float> random_data(size_t n, uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  // Sum of three uniforms: bell-shaped with variance 1, no platform-dependent normal_distribution.
  for (auto& x : v) x = scale * (u(gen) + u(gen) + u(gen));
  return v;
}

bool exists(const std::string& path) { return fs::exists(path); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<std::pair<std::string, std::string>> dir_contents(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      files.emplace_back(fs::relative(e.path(), dir).string(), read_file(e.path().string()));
  std::sort(files.begin(), files.end());
  return files;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size() && i < ref.size(); ++i) {
    double d = static_cast<double>(a[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / (den > 0 ? den : 1.0));
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= m)) m = d;  // NaN propagates as a failure
  }
  return m;
}

Model::Model(const std::string& name, std::vector<int64_t> input_shape)
    : input_shape_(std::move(input_shape)) {
  model_.set_ir_version(7);
  model_.set_producer_name("cimsim-e2e");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = model_.mutable_graph();
  g->set_name(name);
  auto* in = g->add_input();
  in->set_name("input");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : input_shape_) tt->mutable_shape()->add_dim()->set_dim_value(d);
  for (char c : name) seed_ = seed_ * 31 + static_cast<unsigned char>(c);
}

std::string Model::node(const std::string& op, std::initializer_list<std::string> inputs,
                        std::initializer_list<std::pair<std::string, std::vector<int64_t>>> int_attrs,
                        std::initializer_list<std::pair<std::string, float>> float_attrs) {
  auto* n = model_.mutable_graph()->add_node();
  std::string id = op + "_" + std::to_string(counter_++);
  n->set_op_type(op);
  n->set_name(id);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(id + "_out");
  for (const auto& [key, v] : int_attrs) {
    auto* a = n->add_attribute();
    a->set_name(key);
    // Scalar attributes are passed as one-element vectors whose key ends in '!'.
    if (!key.empty() && key.back() == '!') {
      a->set_name(key.substr(0, key.size() - 1));
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(v.at(0));
    } else {
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t x : v) a->add_ints(x);
    }
  }
  for (const auto& [key, v] : float_attrs) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  return id + "_out";
}

std::string Model::initializer(const std::string& base, const std::vector<int64_t>& shape,
                               float scale) {
  auto* t = model_.mutable_graph()->add_initializer();
  std::string name = base + "_" + std::to_string(counter_++);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : shape) {
    t->add_dims(d);
    n *= d;
  }
  for (float f : random_data(static_cast<size_t>(n), seed_++, scale)) t->add_float_data(f);
  return name;
}

std::string Model::constant(const std::string& base, const std::vector<int64_t>& shape,
                            const std::vector<float>& values) {
  auto* t = model_.mutable_graph()->add_initializer();
  std::string name = base + "_" + std::to_string(counter_++);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  for (float f : values) t->add_float_data(f);
  return name;
}

std::string Model::conv(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                        int64_t pad, int64_t dilation, int64_t group) {
  // He-like scale keeps activations of a chain in a similar range.
  float scale = 1.0f / std::sqrt(static_cast<float>(cin / group * k * k));
  std::string w = initializer("w", {cout, cin / group, k, k}, scale);
  std::string b = initializer("b", {cout}, 0.1f);
  return node("Conv", {x, w, b},
              {{"kernel_shape", {k, k}}, {"strides", {stride, stride}},
               {"pads", {pad, pad, pad, pad}}, {"dilations", {dilation, dilation}},
               {"group!", {group}}});
}

std::string Model::gemm(const std::string& x, int64_t k, int64_t n) {
  std::string w = initializer("fc_w", {n, k}, 1.0f / std::sqrt(static_cast<float>(k)));
  std::string b = initializer("fc_b", {n}, 0.1f);
  return node("Gemm", {x, w, b}, {{"transB!", {1}}});
}

void Model::output(const std::string& name) {
  auto* o = model_.mutable_graph()->add_output();
  o->set_name(name);
  o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

void Model::save(const std::string& path) const {
  std::string bytes;
  if (!model_.SerializeToString(&bytes)) throw std::runtime_error("cannot serialize model");
  write_file(path, bytes);
}

}  // namespace e2e
