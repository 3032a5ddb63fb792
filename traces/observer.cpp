#include "traces/observer.h"

namespace cimsim {

const char* unit_name(Unit u) {
  switch (u) {
    case Unit::kScalar: return "scalar";
    case Unit::kVector: return "vector";
    case Unit::kCrossbar: return "crossbar";
    case Unit::kAdc: return "adc";
    case Unit::kNic: return "nic";
    case Unit::kLink: return "link";
    case Unit::kMemory: return "memory";
    case Unit::kWait: return "wait";
  }
  return "unknown";
}

}  // namespace cimsim
