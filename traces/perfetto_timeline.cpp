#include "traces/perfetto_timeline.h"

#include <zlib.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "traces/timeline.h"

namespace cimsim {
namespace {

uint64_t ps_to_ns(uint64_t ps) { return (ps + 500) / 1000; }

// zlib's default level. Measured on LeNet-5 batch 200 (docs/traces.md), file size and user
// time of the whole traced simulate run: level 1 13.8 MB, 1.6 s; level 3 12.2 MB, 2.0 s;
// level 6 10.9 MB, 3.2 s (timeline.json: 173 MB, 2.8 s). The size is what matters here.
constexpr int kDeflateLevel = 6;

}  // namespace

size_t NestingLanes::place(uint64_t start, uint64_t end, std::vector<Closed>& closed) {
  for (size_t k = 0;; ++k) {
    if (k == lanes_.size()) lanes_.emplace_back();
    Lane& lane = lanes_[k];
    if (start < lane.time) continue;  // the lane already emitted something later
    auto& stack = lane.open_ends;
    while (!stack.empty() && stack.back() <= start) {
      closed.push_back({k, stack.back()});
      lane.time = stack.back();
      stack.pop_back();
    }
    if (stack.empty() || stack.back() >= end) {
      stack.push_back(end);
      lane.time = start;
      return k;
    }
  }
}

void NestingLanes::close_all(std::vector<Closed>& closed) {
  for (size_t k = 0; k < lanes_.size(); ++k) {
    auto& stack = lanes_[k].open_ends;
    while (!stack.empty()) {
      closed.push_back({k, stack.back()});
      lanes_[k].time = stack.back();
      stack.pop_back();
    }
  }
}

size_t NestingLanes::bytes_held() const {
  size_t n = lanes_.capacity() * sizeof(Lane);
  for (const auto& l : lanes_) n += l.open_ends.capacity() * sizeof(uint64_t);
  return n;
}

PerfettoTimelineWriter::PerfettoTimelineWriter(std::ostream& out, std::vector<std::string> layer_names,
                                               int memory_pid, bool compress)
    : out_(out), layer_names_(std::move(layer_names)), memory_pid_(memory_pid), compress_(compress) {
  pending_.reserve(kChunkBytes + 4096);
  // First packet: clears the sequence's incremental state and interns the argument names.
  using namespace pftrace;
  packet_.clear();
  packet_.varint(kSequenceId, 1);
  packet_.varint(kSequenceFlags, kSeqIncrementalStateCleared);
  proto::ProtoWriter interned;
  const std::pair<uint64_t, const char*> args[] = {
      {kArgLayer, "layer"}, {kArgPc, "pc"}, {kArgEnergy, "energy_pj"}, {kArgEvents, "events"}};
  for (const auto& [iid, name] : args) {
    inner_.clear();
    inner_.varint(kInternedIid, iid);
    inner_.string(kInternedName, name);
    interned.message(kInternedAnnotationNames, inner_);
  }
  packet_.message(kInternedData, interned);
  end_packet();
}

void PerfettoTimelineWriter::begin_packet(uint64_t timestamp_ns) {
  using namespace pftrace;
  packet_.clear();
  packet_.varint(kTimestamp, timestamp_ns);
  packet_.varint(kSequenceId, 1);
  packet_.varint(kSequenceFlags, kSeqNeedsIncrementalState);
}

void PerfettoTimelineWriter::end_packet() {
  proto::append_varint(pending_, (uint64_t{pftrace::kTracePacket} << 3) | proto::kLengthDelimited);
  proto::append_varint(pending_, packet_.size());
  pending_ += packet_.data();
  if (pending_.size() >= kChunkBytes) flush_chunk();
}

void PerfettoTimelineWriter::flush_chunk() {
  if (pending_.empty()) return;
  if (!compress_) {
    out_.write(pending_.data(), static_cast<std::streamsize>(pending_.size()));
    pending_.clear();
    return;
  }
  uLongf size = compressBound(static_cast<uLong>(pending_.size()));
  std::string deflated(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&deflated[0]), &size, reinterpret_cast<const Bytef*>(pending_.data()),
                static_cast<uLong>(pending_.size()), kDeflateLevel) != Z_OK) {
    // Not thrown from inside the simulation: the stream is marked failed, and the observer
    // reports "cannot write" when it closes the file.
    out_.setstate(std::ios::badbit);
    pending_.clear();
    return;
  }
  deflated.resize(size);
  packet_.clear();
  packet_.bytes(pftrace::kCompressedPackets, deflated.data(), deflated.size());
  std::string frame;
  proto::append_varint(frame, (uint64_t{pftrace::kTracePacket} << 3) | proto::kLengthDelimited);
  proto::append_varint(frame, packet_.size());
  out_.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  out_.write(packet_.data().data(), static_cast<std::streamsize>(packet_.size()));
  pending_.clear();
}

uint64_t PerfettoTimelineWriter::intern(const std::string& name) {
  auto it = names_.find(name);
  if (it != names_.end()) return it->second;
  uint64_t iid = names_.size() + 1;
  names_.emplace(name, iid);
  // Interned in a packet of its own on the sequence, ahead of the first event using it.
  using namespace pftrace;
  packet_.clear();
  packet_.varint(kSequenceId, 1);
  packet_.varint(kSequenceFlags, kSeqNeedsIncrementalState);
  inner_.clear();
  inner_.varint(kInternedIid, iid);
  inner_.string(kInternedName, name);
  nested_.clear();
  nested_.message(kInternedEventNames, inner_);
  packet_.message(kInternedData, nested_);
  end_packet();
  return iid;
}

uint64_t PerfettoTimelineWriter::intern_action(const char* action) {
  if (!action) action = "";
  auto it = action_iids_.find(action);
  if (it != action_iids_.end()) return it->second;
  uint64_t iid = intern(action);
  action_iids_.emplace(action, iid);
  return iid;
}

uint64_t PerfettoTimelineWriter::intern_layer(uint16_t layer) {
  auto it = layer_iids_.find(layer);
  if (it != layer_iids_.end()) return it->second;
  std::string name = layer < layer_names_.size() && !layer_names_[layer].empty() ? layer_names_[layer]
                                                                                 : fmt::format("layer {}", layer);
  uint64_t iid = intern(name);
  layer_iids_.emplace(layer, iid);
  return iid;
}

PerfettoTimelineWriter::Track& PerfettoTimelineWriter::track(int pid, int kind, int index) {
  auto key = std::make_tuple(pid, kind, index);
  auto it = tracks_.find(key);
  if (it == tracks_.end()) it = tracks_.emplace(key, Track{pid, kind, index, {}, {}}).first;
  return it->second;
}

uint64_t PerfettoTimelineWriter::lane_uuid(Track& t, size_t lane) {
  using namespace pftrace;
  while (t.lane_uuids.size() <= lane) {
    auto proc = process_uuids_.find(t.pid);
    if (proc == process_uuids_.end()) {
      uint64_t uuid = next_uuid_++;
      proc = process_uuids_.emplace(t.pid, uuid).first;
      packet_.clear();
      packet_.varint(kSequenceId, 1);
      proto::ProtoWriter desc, process;
      desc.varint(kTrackUuid, uuid);
      process.varint(kProcessPid, static_cast<uint64_t>(t.pid));
      process.string(kProcessName, t.pid == memory_pid_ ? std::string("global memory")
                                                        : fmt::format("core {}", t.pid));
      desc.message(kTrackProcess, process);
      packet_.message(kTrackDescriptor, desc);
      end_packet();
    }
    const uint64_t uuid = next_uuid_++;
    const size_t k = t.lane_uuids.size();
    std::string name = timeline_track_name(t.kind, t.index);
    if (k > 0) name += fmt::format(" ({})", k + 1);
    const int tid = (t.pid + 1) * 100000 + next_tid_[t.pid]++;
    packet_.clear();
    packet_.varint(kSequenceId, 1);
    proto::ProtoWriter desc, thread;
    desc.varint(kTrackUuid, uuid);
    desc.varint(kTrackParentUuid, proc->second);
    thread.varint(kThreadPid, static_cast<uint64_t>(t.pid));
    thread.varint(kThreadTid, static_cast<uint64_t>(tid));
    thread.string(kThreadName, name);
    desc.message(kTrackThread, thread);
    packet_.message(kTrackDescriptor, desc);
    end_packet();
    t.lane_uuids.push_back(uuid);
  }
  return t.lane_uuids[lane];
}

void PerfettoTimelineWriter::emit_ends(Track& t, const std::vector<NestingLanes::Closed>& closed) {
  using namespace pftrace;
  for (const auto& c : closed) {
    begin_packet(c.end);
    event_.clear();
    event_.varint(kEventType, kTypeSliceEnd);
    event_.varint(kEventTrackUuid, t.lane_uuids[c.lane]);
    packet_.message(kTrackEvent, event_);
    end_packet();
  }
}

void PerfettoTimelineWriter::slice(Track& t, uint64_t start_ns, uint64_t end_ns, uint64_t name_iid,
                                   const SimEvent* e, const Stretch* s) {
  using namespace pftrace;
  closed_.clear();
  const size_t lane = t.lanes.place(start_ns, end_ns, closed_);
  emit_ends(t, closed_);
  const uint64_t uuid = lane_uuid(t, lane);
  begin_packet(start_ns);
  event_.clear();
  event_.varint(kEventType, kTypeSliceBegin);
  event_.varint(kEventTrackUuid, uuid);
  event_.varint(kEventNameIid, name_iid);
  auto annotation_uint = [&](uint64_t name, uint64_t v) {
    nested_.clear();
    nested_.varint(kAnnotationNameIid, name);
    nested_.varint(kAnnotationUint, v);
    event_.message(kEventDebugAnnotations, nested_);
  };
  if (e) {
    nested_.clear();
    nested_.varint(kAnnotationNameIid, kArgLayer);
    const uint16_t layer = e->layer;
    nested_.string(kAnnotationString, layer < layer_names_.size() && !layer_names_[layer].empty()
                                          ? layer_names_[layer]
                                          : fmt::format("layer {}", layer));
    event_.message(kEventDebugAnnotations, nested_);
    annotation_uint(kArgPc, e->pc);
  } else {
    annotation_uint(kArgEvents, s->events);
  }
  nested_.clear();
  nested_.varint(kAnnotationNameIid, kArgEnergy);
  nested_.fixed_double(kAnnotationDouble, e ? e->energy_pj : s->energy_pj);
  event_.message(kEventDebugAnnotations, nested_);
  packet_.message(kTrackEvent, event_);
  end_packet();
  ++slices_;
}

void PerfettoTimelineWriter::flush_stretch(int core) {
  Stretch& s = stretches_[static_cast<size_t>(core)];
  if (!s.open) return;
  s.open = false;
  Track& t = track(core, kLayersTrackKind, 0);
  slice(t, ps_to_ns(s.start_ps), ps_to_ns(s.end_ps), intern_layer(s.layer), nullptr, &s);
}

void PerfettoTimelineWriter::add(const SimEvent& e) {
  const int pid = e.core < 0 ? memory_pid_ : e.core;
  // Layer stretches: the core's events except links and waits, grouped while the layer stays.
  if (e.core >= 0 && e.unit != Unit::kLink && e.unit != Unit::kWait) {
    if (stretches_.size() <= static_cast<size_t>(e.core)) stretches_.resize(static_cast<size_t>(e.core) + 1);
    Stretch& s = stretches_[static_cast<size_t>(e.core)];
    if (s.open && s.layer != e.layer) flush_stretch(e.core);
    if (!s.open) {
      s = Stretch{true, e.layer, e.start_ps, e.start_ps + e.duration_ps, 0, 0.0};
    }
    s.start_ps = std::min(s.start_ps, e.start_ps);
    s.end_ps = std::max(s.end_ps, e.start_ps + e.duration_ps);
    s.events += 1;
    s.energy_pj += e.energy_pj;
  }
  Track& t = track(pid, static_cast<int>(e.unit), timeline_track_index(e));
  slice(t, ps_to_ns(e.start_ps), ps_to_ns(e.start_ps + e.duration_ps), intern_action(e.action), &e, nullptr);
}

void PerfettoTimelineWriter::finish() {
  if (finished_) return;
  finished_ = true;
  for (size_t c = 0; c < stretches_.size(); ++c) flush_stretch(static_cast<int>(c));
  for (auto& kv : tracks_) {
    closed_.clear();
    kv.second.lanes.close_all(closed_);
    emit_ends(kv.second, closed_);
  }
  flush_chunk();
  out_.flush();
}

size_t PerfettoTimelineWriter::bytes_held() const {
  size_t n = pending_.capacity() + packet_.data().capacity() + event_.data().capacity() +
             nested_.data().capacity() + inner_.data().capacity() + closed_.capacity() * sizeof(NestingLanes::Closed) +
             stretches_.capacity() * sizeof(Stretch);
  for (const auto& kv : tracks_)
    n += sizeof(kv) + kv.second.lanes.bytes_held() + kv.second.lane_uuids.capacity() * sizeof(uint64_t);
  for (const auto& kv : names_) n += sizeof(kv) + kv.first.capacity();
  n += (action_iids_.size() + layer_iids_.size()) * 32 + process_uuids_.size() * 48 + next_tid_.size() * 48;
  return n;
}

}  // namespace cimsim
