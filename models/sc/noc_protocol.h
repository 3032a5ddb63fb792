// What travels with a tlm_generic_payload between a core's NIC, the NoC and global memory,
// and the pool the NICs take their payloads from.
//
// Contract (approximately-timed base protocol, docs/models.md "TLM-2.0"): a NIC sends
// BEGIN_REQ on nb_transport_fw with the delay annotated to `start_cycle` (the request
// leaves the NIC then). The NoC answers END_REQ on the backward path when it has *accepted*
// the request: a message once the destination's receive channel had room for it (credits:
// this is where back-pressure shows), a load or store once global memory took it. By
// END_REQ the NoC has copied a message's bytes out of the sender's buffer, or written a
// load's bytes into the loader's buffer, and filled `done_cycle`, `hops` and `flits`; the
// initiator may then reuse its buffer. BEGIN_RESP follows at done_cycle (the transaction is
// over; an error response may come instead of END_REQ). The payload's data pointer carries
// the real bytes; the extension the routing fields and the analytic times.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <tlm>

namespace cimsim {

struct NocExtension : tlm::tlm_extension<NocExtension> {
  enum class Kind : uint8_t { kMessage, kLoad, kStore };
  Kind kind = Kind::kMessage;
  int src = 0;              // initiating core
  int dst = 0;              // kMessage: destination core
  int tag = 0;              // kMessage: matched by recv together with src
  uint16_t layer = 0;       // for traces
  uint64_t start_cycle = 0; // kMessage/kStore: injection; kLoad: request reaches memory port
  // out: kMessage: tail reaches the destination NIC; kLoad: tail of the data reaches the
  // loading NIC; kStore: the bytes are written in memory.
  uint64_t done_cycle = 0;
  uint64_t hops = 0;        // out: router-to-router hops of the data packet
  uint64_t flits = 0;       // out: flits of the data packet
  uint64_t accept_cycle = 0;  // out: END_REQ (kMessage: admitted into the network)
  int port = 0;             // the NoC's target-socket index the request came in on
  // On the NoC's own requests to global memory: the NIC's transaction it serves.
  tlm::tlm_generic_payload* origin = nullptr;

  tlm::tlm_extension_base* clone() const override { return new NocExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const NocExtension&>(other);
  }
};

// Payloads for one initiator, each with its NocExtension attached for life. Reference
// counted through tlm_mm_interface: acquire() per holder, the last release() returns the
// payload to the pool. The pool owns every payload it made (in flight ones included).
class PayloadPool : public tlm::tlm_mm_interface {
 public:
  ~PayloadPool() override {
    for (auto& p : all_) p->clear_extension(p->get_extension<NocExtension>());
  }
  tlm::tlm_generic_payload* allocate() {
    if (free_.empty()) {
      all_.push_back(std::make_unique<tlm::tlm_generic_payload>(this));
      exts_.push_back(std::make_unique<NocExtension>());
      all_.back()->set_extension(exts_.back().get());
      free_.push_back(all_.back().get());
    }
    tlm::tlm_generic_payload* p = free_.back();
    free_.pop_back();
    *p->get_extension<NocExtension>() = NocExtension();
    return p;
  }
  void free(tlm::tlm_generic_payload* p) override { free_.push_back(p); }

 private:
  std::vector<std::unique_ptr<tlm::tlm_generic_payload>> all_;
  std::vector<std::unique_ptr<NocExtension>> exts_;
  std::vector<tlm::tlm_generic_payload*> free_;
};

}  // namespace cimsim
