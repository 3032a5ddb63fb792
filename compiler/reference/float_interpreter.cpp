#include "compiler/reference/float_interpreter.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "compiler/frontend/shape_inference.h"
#include "compiler/reference/float_kernels.h"
#include "platform/spec/arch.h"

namespace cimsim::reference {

namespace {

std::vector<ir::FloatTensor> run_once(const ir::Graph& g, const std::vector<const ir::FloatTensor*>& inputs) {
  const size_t nv = g.values.size();
  std::vector<ir::FloatTensor> owned(nv);
  std::vector<const ir::FloatTensor*> at(nv, nullptr);
  for (size_t v = 0; v < nv; ++v)
    if (g.values[v].is_constant()) at[v] = &*g.values[v].data;
  for (size_t i = 0; i < g.inputs.size(); ++i) at[g.inputs[i]] = inputs[i];
  // Last node reading each value, so intermediates can be freed early (VGG-16 activations).
  std::vector<int> last_use(nv, -1);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int v : g.nodes[k].inputs)
      if (v >= 0) last_use[v] = static_cast<int>(k);
  for (int v : g.outputs) last_use[v] = static_cast<int>(g.nodes.size());

  std::vector<const ir::FloatTensor*> in;
  std::vector<ir::FloatTensor> out;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const ir::Node& n = g.nodes[k];
    in.clear();
    for (int v : n.inputs) {
      if (v >= 0 && at[v] == nullptr)
        throw std::logic_error("run_float: value '" + g.values[v].name + "' read before it is computed");
      in.push_back(v >= 0 ? at[v] : nullptr);
    }
    out.assign(n.outputs.size(), ir::FloatTensor{});
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) out[i].shape = g.values[n.outputs[i]].shape;
    eval_node(g, n, in, out);
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      int v = n.outputs[i];
      if (v < 0) continue;
      owned[v] = std::move(out[i]);
      at[v] = &owned[v];
    }
    for (int v : n.inputs)
      if (v >= 0 && last_use[v] == static_cast<int>(k) && !g.values[v].is_constant()) {
        owned[v] = ir::FloatTensor{};
        at[v] = nullptr;
      }
  }
  std::vector<ir::FloatTensor> result;
  for (int v : g.outputs) {
    if (at[v] == nullptr) throw std::logic_error("run_float: output '" + g.values[v].name + "' not computed");
    result.push_back(*at[v]);
    result.back().shape = g.values[v].shape;
  }
  return result;
}

}  // namespace

std::vector<ir::FloatTensor> run_float(const ir::Graph& g, const std::vector<ir::FloatTensor>& inputs) {
  if (!g.simplified) throw std::logic_error("run_float: the graph must be simplified first");
  const std::string& src = g.source;
  if (inputs.size() != g.inputs.size())
    throw InputError(src + ": expected " + std::to_string(g.inputs.size()) + " input tensor(s), got " +
                     std::to_string(inputs.size()));
  bool exact = true, batchable = true;
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value& v = g.values[g.inputs[i]];
    const ir::FloatTensor& t = inputs[i];
    if (static_cast<int64_t>(t.data.size()) != t.numel())
      throw InputError(src + ": input '" + v.name + "': shape " + frontend::shape_to_string(t.shape) +
                       " needs " + std::to_string(t.numel()) + " values, got " + std::to_string(t.data.size()));
    if (t.shape != v.shape) exact = false;
    bool rest_equal = !t.shape.empty() && t.shape.size() == v.shape.size() && v.shape[0] == 1 &&
                      std::equal(t.shape.begin() + 1, t.shape.end(), v.shape.begin() + 1);
    if (!rest_equal || (batch >= 0 && t.shape[0] != batch)) batchable = false;
    if (rest_equal) batch = t.shape[0];
  }
  if (exact) {
    std::vector<const ir::FloatTensor*> ptrs;
    for (const auto& t : inputs) ptrs.push_back(&t);
    return run_once(g, ptrs);
  }
  if (!batchable || batch <= 0) {
    std::string expected;
    for (size_t i = 0; i < inputs.size(); ++i)
      expected += (i ? ", '" : "'") + g.values[g.inputs[i]].name + "' " +
                  frontend::shape_to_string(g.values[g.inputs[i]].shape) + " got " +
                  frontend::shape_to_string(inputs[i].shape);
    throw InputError(src + ": input shapes do not match the model (leading batch dimension may vary): " + expected);
  }
  std::vector<ir::FloatTensor> results;
  std::vector<ir::FloatTensor> sample(inputs.size());
  for (int64_t s = 0; s < batch; ++s) {
    std::vector<const ir::FloatTensor*> ptrs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ir::FloatTensor& t = inputs[i];
      int64_t per = t.numel() / batch;
      sample[i].shape = g.values[g.inputs[i]].shape;
      sample[i].data.assign(t.data.begin() + s * per, t.data.begin() + (s + 1) * per);
      ptrs.push_back(&sample[i]);
    }
    std::vector<ir::FloatTensor> outs = run_once(g, ptrs);
    if (s == 0) {
      results = std::move(outs);
      for (auto& r : results) {
        if (r.shape.empty() || r.shape[0] != 1)
          throw InputError(src + ": cannot run a batch of " + std::to_string(batch) +
                           ": an output has no leading batch dimension of 1");
        r.shape[0] = batch;
        r.data.reserve(r.data.size() * static_cast<size_t>(batch));
      }
    } else {
      for (size_t o = 0; o < outs.size(); ++o)
        results[o].data.insert(results[o].data.end(), outs[o].data.begin(), outs[o].data.end());
    }
  }
  return results;
}

}  // namespace cimsim::reference
