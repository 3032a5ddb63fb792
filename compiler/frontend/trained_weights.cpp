#include "compiler/frontend/trained_weights.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "platform/spec/arch.h"

namespace cimsim::frontend {

namespace {

constexpr const char* kMagic = "cimsim-weights 1";
// A shape larger than this many elements cannot be a weight of a model cimsim maps.
constexpr int64_t kMaxElements = int64_t{1} << 31;

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace

std::vector<int> trainable_constants(const ir::Graph& g) {
  std::vector<int> ids;
  std::set<int> seen;
  for (const ir::Node& n : g.nodes) {
    if (n.kind != ir::OpKind::kConv && n.kind != ir::OpKind::kGemm && n.kind != ir::OpKind::kMatMul) continue;
    const size_t operands = n.kind == ir::OpKind::kMatMul ? 2 : 3;
    for (size_t i = 1; i < operands && i < n.inputs.size(); ++i) {
      const int v = n.inputs[i];
      if (v < 0 || !g.values[v].is_constant() || !seen.insert(v).second) continue;
      ids.push_back(v);
    }
  }
  return ids;
}

std::vector<NamedTensor> read_weights_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot open the weights file");
  std::string magic, header;
  std::getline(f, magic);
  if (magic != kMagic)
    throw InputError(path + ": not a cimsim weights file (first line must be '" + std::string(kMagic) + "')");
  std::getline(f, header);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": line 2: the tensor index is not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("tensors") || !j["tensors"].is_array())
    throw InputError(path + ": line 2: expected {\"tensors\": [{\"name\": ..., \"shape\": [...]}, ...]}");
  std::vector<NamedTensor> out;
  std::set<std::string> names;
  for (const nlohmann::json& t : j["tensors"]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("shape") ||
        !t["shape"].is_array())
      throw InputError(path + ": line 2: every tensor needs a string \"name\" and an array \"shape\"");
    NamedTensor nt;
    nt.name = t["name"].get<std::string>();
    int64_t numel = 1;
    for (const nlohmann::json& d : t["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        throw InputError(path + ": tensor '" + nt.name + "': shape entries must be non-negative integers");
      const int64_t dim = d.get<int64_t>();
      // Checked before multiplying, so a huge shape cannot overflow int64.
      if (dim > 0 && numel > kMaxElements / dim)
        throw InputError(path + ": tensor '" + nt.name + "': shape is too large");
      nt.tensor.shape.push_back(dim);
      numel *= dim;
    }
    if (!names.insert(nt.name).second) throw InputError(path + ": tensor '" + nt.name + "' appears twice");
    out.push_back(std::move(nt));
  }
  const std::vector<char> body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t expected = 0;
  for (const NamedTensor& t : out) expected += static_cast<size_t>(t.tensor.numel()) * 4;
  if (body.size() != expected)
    throw InputError(path + ": the index describes " + std::to_string(expected) + " bytes of float32 data, the file holds " +
                     std::to_string(body.size()));
  size_t at = 0;
  for (NamedTensor& t : out) {
    t.tensor.data.resize(static_cast<size_t>(t.tensor.numel()));
    for (float& x : t.tensor.data) {
      uint8_t b[4];
      std::memcpy(b, body.data() + at, 4);
      at += 4;
      const uint32_t u = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
      std::memcpy(&x, &u, 4);
    }
  }
  return out;
}

void write_weights_file(const std::string& path, const std::vector<NamedTensor>& tensors) {
  nlohmann::json index = nlohmann::json::object();
  index["tensors"] = nlohmann::json::array();
  for (const NamedTensor& t : tensors) {
    if (static_cast<int64_t>(t.tensor.data.size()) != t.tensor.numel())
      throw InputError(path + ": tensor '" + t.name + "' has " + std::to_string(t.tensor.data.size()) +
                       " values for shape " + shape_text(t.tensor.shape));
    index["tensors"].push_back({{"name", t.name}, {"shape", t.tensor.shape}});
  }
  const std::string tmp = path + ".cimsim-tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(path + ": cannot write the weights file");
    f << kMagic << '\n' << index.dump() << '\n';
    for (const NamedTensor& t : tensors)
      for (float x : t.tensor.data) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        const char b[4] = {static_cast<char>(u & 0xff), static_cast<char>((u >> 8) & 0xff),
                           static_cast<char>((u >> 16) & 0xff), static_cast<char>(u >> 24)};
        f.write(b, 4);
      }
    if (!f) {
      std::remove(tmp.c_str());
      throw InputError(path + ": cannot write the weights file");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot write the weights file (" + ec.message() + ")");
  }
}

void apply_trained_weights(ir::Graph& g, const std::string& path) {
  const std::vector<NamedTensor> file = read_weights_file(path);
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : file) by_name[t.name] = &t;
  const std::vector<int> wanted = trainable_constants(g);
  std::set<std::string> wanted_names;
  for (int v : wanted) wanted_names.insert(g.values[v].name);
  // Check everything first, so a bad file leaves the graph untouched.
  for (const NamedTensor& t : file)
    if (!wanted_names.count(t.name))
      throw InputError(path + ": tensor '" + t.name + "' is not a trainable weight of " + g.source +
                       " (its Conv/Gemm/MatMul weights and biases; `cimsim export-training` lists them)");
  for (int v : wanted) {
    const ir::Value& val = g.values[v];
    auto it = by_name.find(val.name);
    if (it == by_name.end())
      throw InputError(path + ": tensor '" + val.name + "' of " + g.source + " is missing");
    const ir::FloatTensor& t = it->second->tensor;
    if (t.shape != val.data->shape)
      throw InputError(path + ": tensor '" + val.name + "' has shape " + shape_text(t.shape) + ", the model's is " +
                       shape_text(val.data->shape));
    for (size_t i = 0; i < t.data.size(); ++i)
      if (!std::isfinite(t.data[i]))
        throw InputError(path + ": tensor '" + val.name + "' element " + std::to_string(i) + " is not finite");
  }
  for (int v : wanted) {
    ir::Value& val = g.values[v];
    val.data->data = by_name[val.name]->tensor.data;
    val.dtype = ir::DType::kFloat32;
    val.int_data.clear();
    val.quant.reset();
  }
}

}  // namespace cimsim::frontend
