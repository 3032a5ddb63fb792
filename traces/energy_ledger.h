// Dynamic-energy accounting by (component, layer): always on, cheap (an array add).
//
// Contract: component ids are the cost components of the arch spec (CostSpec names, in
// the order of kComponentNames); layer ids are Program::layers indices. Models charge
// every action here; the report reads totals from it and adds leakage separately, so
// by-component and by-layer breakdowns add up to the same total by construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cimsim {

enum class Component : uint8_t {
  kCrossbar, kDac, kSnh, kAdc, kShiftAdd, kPeInputReg, kPeOutputReg, kBuffer, kBus, kRouter,
  kVectorUnit, kScalarUnit, kCoreOutputReg, kMemory, kCrossbarWrite, kCount
};

constexpr std::array<const char*, static_cast<size_t>(Component::kCount)> kComponentNames = {
    "crossbar", "dac", "snh", "adc", "shift_add", "pe_input_reg", "pe_output_reg", "buffer",
    "bus", "router", "vector_unit", "scalar_unit", "core_output_reg", "memory", "crossbar_write"};

// The ledger row a layer id is charged to: ids outside the program's layer table (a hand-built
// or corrupt program) count as layer 0. LayerTimes uses the same rule.
inline size_t ledger_layer(uint16_t layer, size_t layers) { return layer < layers ? layer : 0; }

class EnergyLedger {
 public:
  explicit EnergyLedger(size_t num_layers = 1) { resize(num_layers); }
  void resize(size_t num_layers) { pj_.assign(num_layers * kN, 0.0); layers_ = num_layers; }
  void add(Component c, uint16_t layer, double pj) {
    pj_[ledger_layer(layer, layers_) * kN + static_cast<size_t>(c)] += pj;
  }
  double get(Component c, uint16_t layer) const { return pj_[layer * kN + static_cast<size_t>(c)]; }
  size_t layers() const { return layers_; }
  void merge(const EnergyLedger& o) {
    for (size_t i = 0; i < pj_.size() && i < o.pj_.size(); ++i) pj_[i] += o.pj_[i];
  }

 private:
  static constexpr size_t kN = static_cast<size_t>(Component::kCount);
  std::vector<double> pj_;
  size_t layers_ = 0;
};

}  // namespace cimsim
