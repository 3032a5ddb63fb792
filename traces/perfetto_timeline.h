// timeline.pftrace: the run as a Perfetto protobuf trace (ui.perfetto.dev, trace_processor),
// written while the simulation runs.
//
// Contract (docs/traces.md): the same tracks and slices as timeline.json (timeline.h) in
// Perfetto's native format: a Trace message (repeated TracePacket packet = 1) whose packets
// are grouped into deflate-compressed `compressed_packets` packets of at most kChunkBytes
// uncompressed each. One trusted_packet_sequence_id (1); the first packet sets
// SEQ_INCREMENTAL_STATE_CLEARED and interns the debug-annotation names; event names (the
// actions and the layer names) are interned on first use. One process track per core
// (pid = core, "core N") and one for global memory (pid = memory_pid, "global memory"); one
// thread track per unit and lane, created when its first slice arrives. Each slice is a
// TYPE_SLICE_BEGIN / TYPE_SLICE_END pair with absolute timestamps in ns (rounded from ps
// like timeline.json); BEGIN carries debug annotations layer, pc, energy_pj (unit slices) or
// events, energy_pj (layer stretches).
//
// Streaming: add() encodes the event at once; the writer holds only the pending chunk, the
// interning tables, one open layer stretch per core and, per track lane, the stack of
// enclosing open slices (NestingLanes), so memory is bounded by the number of tracks and the
// nesting depth, not by the trace length (bytes_held()). The layers track groups events in
// arrival order (the order the models report them), not in start order.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "traces/observer.h"
#include "traces/proto_wire.h"

namespace cimsim {

// Online interval partitioning: slices arrive one by one with [start, end); place() puts each
// on the first lane where it is disjoint from or nested in the lane's open slices and not
// earlier than what the lane already emitted, so every lane's BEGIN/END stream is in time
// order and properly nested. Lanes are created on demand.
class NestingLanes {
 public:
  struct Closed {
    size_t lane;
    uint64_t end;
  };
  // Returns the lane for [start, end); slices that closed on the lanes examined (their ends
  // are <= start) are appended to `closed` in time order per lane.
  size_t place(uint64_t start, uint64_t end, std::vector<Closed>& closed);
  // Closes every open slice (end of trace).
  void close_all(std::vector<Closed>& closed);
  size_t lanes() const { return lanes_.size(); }
  size_t bytes_held() const;

 private:
  struct Lane {
    std::vector<uint64_t> open_ends;  // enclosing slices, innermost last
    uint64_t time = 0;                // latest BEGIN or END emitted on the lane
  };
  std::vector<Lane> lanes_;
};

class PerfettoTimelineWriter {
 public:
  static constexpr size_t kChunkBytes = 256 * 1024;

  // memory_pid: the process id of global memory (above every core and router index).
  // compress = false writes the packets without deflate (for tests and debugging).
  PerfettoTimelineWriter(std::ostream& out, std::vector<std::string> layer_names, int memory_pid,
                         bool compress = true);
  void add(const SimEvent& e);
  // Ends open layer stretches and slices and flushes the last chunk. Call once.
  void finish();
  // Bytes of state the writer holds (pending chunk, tables, lanes): bounded, see above.
  size_t bytes_held() const;
  uint64_t slices_written() const { return slices_; }

 private:
  struct Track {
    int pid, kind, index;
    NestingLanes lanes;
    std::vector<uint64_t> lane_uuids;
  };
  struct Stretch {
    bool open = false;
    uint16_t layer = 0;
    uint64_t start_ps = 0, end_ps = 0;
    uint32_t events = 0;
    double energy_pj = 0;
  };
  Track& track(int pid, int kind, int index);
  void slice(Track& t, uint64_t start_ns, uint64_t end_ns, uint64_t name_iid, const SimEvent* e,
             const Stretch* s);
  void flush_stretch(int core);
  void emit_ends(Track& t, const std::vector<NestingLanes::Closed>& closed);
  uint64_t lane_uuid(Track& t, size_t lane);
  uint64_t intern_action(const char* action);
  uint64_t intern_layer(uint16_t layer);
  uint64_t intern(const std::string& name);
  void begin_packet(uint64_t timestamp_ns);
  void end_packet();
  void flush_chunk();

  std::ostream& out_;
  std::vector<std::string> layer_names_;
  int memory_pid_;
  bool compress_;
  std::string pending_;  // framed packets not yet written
  proto::ProtoWriter packet_, event_, nested_, inner_;
  std::map<std::tuple<int, int, int>, Track> tracks_;
  std::map<int, uint64_t> process_uuids_;
  std::map<int, int> next_tid_;
  uint64_t next_uuid_ = 1;
  std::unordered_map<std::string, uint64_t> names_;
  std::unordered_map<const char*, uint64_t> action_iids_;
  std::unordered_map<uint16_t, uint64_t> layer_iids_;
  std::vector<Stretch> stretches_;  // per core
  std::vector<NestingLanes::Closed> closed_;
  uint64_t slices_ = 0;
  bool finished_ = false;
};

// The field numbers used (perfetto/protos/perfetto/trace/...), shared with the tests' decoder.
namespace pftrace {
constexpr uint32_t kTracePacket = 1;           // Trace.packet
constexpr uint32_t kTimestamp = 8;             // TracePacket.timestamp
constexpr uint32_t kSequenceId = 10;           // TracePacket.trusted_packet_sequence_id
constexpr uint32_t kTrackEvent = 11;           // TracePacket.track_event
constexpr uint32_t kInternedData = 12;         // TracePacket.interned_data
constexpr uint32_t kSequenceFlags = 13;        // TracePacket.sequence_flags
constexpr uint32_t kCompressedPackets = 50;    // TracePacket.compressed_packets
constexpr uint32_t kTrackDescriptor = 60;      // TracePacket.track_descriptor
constexpr uint32_t kSeqIncrementalStateCleared = 1;
constexpr uint32_t kSeqNeedsIncrementalState = 2;
constexpr uint32_t kEventType = 9;             // TrackEvent.type
constexpr uint32_t kEventNameIid = 10;         // TrackEvent.name_iid
constexpr uint32_t kEventTrackUuid = 11;       // TrackEvent.track_uuid
constexpr uint32_t kEventDebugAnnotations = 4; // TrackEvent.debug_annotations
constexpr uint64_t kTypeSliceBegin = 1, kTypeSliceEnd = 2;
constexpr uint32_t kAnnotationNameIid = 1;     // DebugAnnotation.name_iid
constexpr uint32_t kAnnotationUint = 3;        // DebugAnnotation.uint_value
constexpr uint32_t kAnnotationDouble = 5;      // DebugAnnotation.double_value
constexpr uint32_t kAnnotationString = 6;      // DebugAnnotation.string_value
constexpr uint32_t kInternedEventNames = 2;    // InternedData.event_names
constexpr uint32_t kInternedAnnotationNames = 3;  // InternedData.debug_annotation_names
constexpr uint32_t kInternedIid = 1, kInternedName = 2;  // EventName / DebugAnnotationName
constexpr uint32_t kTrackUuid = 1;             // TrackDescriptor.uuid
constexpr uint32_t kTrackName = 2;             // TrackDescriptor.name
constexpr uint32_t kTrackProcess = 3;          // TrackDescriptor.process
constexpr uint32_t kTrackThread = 4;           // TrackDescriptor.thread
constexpr uint32_t kTrackParentUuid = 5;       // TrackDescriptor.parent_uuid
constexpr uint32_t kProcessPid = 1, kProcessName = 6;            // ProcessDescriptor
constexpr uint32_t kThreadPid = 1, kThreadTid = 2, kThreadName = 5;  // ThreadDescriptor
// Interned debug-annotation names.
constexpr uint64_t kArgLayer = 1, kArgPc = 2, kArgEnergy = 3, kArgEvents = 4;
}  // namespace pftrace

}  // namespace cimsim
