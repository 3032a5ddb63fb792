#include "compiler/quant/qmodel.h"

namespace cimsim::q {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::kConv: return "conv";
    case LayerKind::kAdd: return "add";
    case LayerKind::kMaxPool: return "maxpool";
    case LayerKind::kAvgPool: return "avgpool";
    case LayerKind::kConcat: return "concat";
    case LayerKind::kLut: return "lut";
    case LayerKind::kReshape: return "reshape";
  }
  return "?";
}

}  // namespace cimsim::q
