#include "compiler/quant/calibration.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>

#include "compiler/reference/float_kernels.h"
#include "platform/spec/arch.h"

namespace cimsim::quant {

namespace {

std::string prefix(const ir::Graph& g) { return (g.source.empty() ? std::string("model") : g.source) + ": "; }

// Uniform in (0, 1] from the top 53 bits, so the log below never sees 0.
double uniform01(std::mt19937_64& gen) {
  return (static_cast<double>(gen() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

}  // namespace

std::vector<ir::FloatTensor> default_calibration(const ir::Graph& g) {
  std::mt19937_64 gen(kDefaultCalibrationSeed);
  const double two_pi = 6.283185307179586476925286766559;
  std::vector<ir::FloatTensor> out;
  for (int v : g.inputs) {
    std::vector<int64_t> shape(g.values[v].shape.begin(), g.values[v].shape.end());
    if (shape.empty()) shape.push_back(1);
    shape[0] = kDefaultCalibrationImages;
    ir::FloatTensor t{std::move(shape), {}};
    t.data.resize(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < t.data.size(); i += 2) {
      const double r = std::sqrt(-2.0 * std::log(uniform01(gen)));
      const double phi = two_pi * uniform01(gen);
      t.data[i] = static_cast<float>(r * std::cos(phi));
      if (i + 1 < t.data.size()) t.data[i + 1] = static_cast<float>(r * std::sin(phi));
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<float> calibration_max_abs(const ir::Graph& g, const std::vector<ir::FloatTensor>& samples) {
  std::vector<float> max_abs(g.values.size(), 0.0f);
  if (samples.size() != g.inputs.size())
    throw InputError(prefix(g) + "calibration data has " + std::to_string(samples.size()) +
                     " tensor(s) but the model has " + std::to_string(g.inputs.size()) + " input(s)");
  int64_t images = -1;
  for (size_t i = 0; i < samples.size(); ++i) {
    const ir::Value& v = g.values[g.inputs[i]];
    const int64_t per_image = v.numel() / std::max<int64_t>(v.shape.empty() ? 1 : v.shape[0], 1);
    const ir::FloatTensor& s = samples[i];
    const int64_t n = s.shape.empty() ? 0 : s.shape[0];
    if (n <= 0 || s.numel() != n * per_image || static_cast<int64_t>(s.data.size()) != s.numel())
      throw InputError(prefix(g) + "calibration tensor for input '" + v.name + "' must be a batch of images of " +
                       std::to_string(per_image) + " elements each");
    if (images >= 0 && n != images)
      throw InputError(prefix(g) + "calibration tensors have different batch sizes");
    images = n;
  }
  std::vector<std::optional<ir::FloatTensor>> vals(g.values.size());
  for (int64_t img = 0; img < images; ++img) {
    for (auto& o : vals) o.reset();
    for (size_t i = 0; i < samples.size(); ++i) {
      const ir::Value& v = g.values[g.inputs[i]];
      ir::FloatTensor t{std::vector<int64_t>(v.shape.begin(), v.shape.end()), {}};
      const int64_t per_image = t.numel();
      t.data.assign(samples[i].data.begin() + img * per_image, samples[i].data.begin() + (img + 1) * per_image);
      vals[g.inputs[i]] = std::move(t);
    }
    for (const ir::Node& n : g.nodes) {
      std::vector<const ir::FloatTensor*> in;
      for (int v : n.inputs) {
        if (v < 0) {
          in.push_back(nullptr);
        } else if (g.values[v].is_constant()) {
          in.push_back(&*g.values[v].data);
        } else {
          if (!vals[v]) throw InputError(prefix(g) + "node '" + n.name + "' reads '" + g.values[v].name + "' before it is computed");
          in.push_back(&*vals[v]);
        }
      }
      std::vector<ir::FloatTensor> out(n.outputs.size());
      for (size_t k = 0; k < n.outputs.size(); ++k)
        out[k].shape.assign(g.values[n.outputs[k]].shape.begin(), g.values[n.outputs[k]].shape.end());
      reference::eval_node(g, n, in, out);
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        float mx = max_abs[n.outputs[k]];
        for (float x : out[k].data)
          if (std::isfinite(x)) mx = std::max(mx, std::fabs(x));
        max_abs[n.outputs[k]] = mx;
        vals[n.outputs[k]] = std::move(out[k]);
      }
    }
    for (int v : g.inputs) {
      float mx = max_abs[v];
      for (float x : vals[v]->data)
        if (std::isfinite(x)) mx = std::max(mx, std::fabs(x));
      max_abs[v] = mx;
    }
  }
  return max_abs;
}

}  // namespace cimsim::quant
