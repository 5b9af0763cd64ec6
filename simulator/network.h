// Simulated network: channels that model the wire between processes. FIFO delivery of buffers,
// per-link latency (a fixed part plus an exponential part) and bandwidth (a link transmits one
// buffer at a time), partitions that fail crossing connections and tell both ends, and
// Flink-style credit-based flow control (see engine/runtime/transport.h).
//
// Every queue is bounded: a channel holds at most `credits` buffers in flight or unconsumed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "base/status.h"
#include "base/time.h"
#include "engine/runtime/transport.h"

namespace faultline::sim {

class World;

struct LinkOptions {
  Duration latency_min = Duration::Micros(100);
  Duration latency_exponential_mean = Duration::Micros(50);
  int64_t bandwidth_bytes_per_second = 1'250'000'000;  // 10 Gbit/s; 0 = unlimited
};

struct NetworkOptions {
  LinkOptions default_link;
  uint32_t credits_max = 1024;       // bound on a channel's credit window
  size_t pooled_buffers_max = 4096;  // bound on recycled buffers kept for reuse
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped = 0;
  uint64_t credit_stalls = 0;
  uint64_t channels_opened = 0;
  uint64_t channels_failed = 0;
  uint64_t bytes_delivered = 0;
};

class Network {
 public:
  using ChannelId = runtime::ChannelId;
  using Endpoint = runtime::Endpoint;
  using Buffer = runtime::Buffer;
  using ChannelListener = runtime::ChannelListener;

  Network(World* world, NetworkOptions options);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Link parameters between two nodes (both directions).
  void SetLink(uint32_t a, uint32_t b, LinkOptions options);
  const LinkOptions& Link(uint32_t from, uint32_t to) const;

  // Partitions: no traffic between any node of `side_a` and any node of `side_b` until healed.
  // Established channels across it fail at once, and both ends are told.
  uint64_t Partition(const std::vector<uint32_t>& side_a, const std::vector<uint32_t>& side_b);
  void Heal(uint64_t partition_id);
  void HealAll();
  bool Reachable(uint32_t a, uint32_t b) const;
  size_t active_partitions() const { return partitions_.size(); }

  // The transport operations, on behalf of a node (see runtime::Transport).
  Status Listen(uint32_t node, uint32_t port, ChannelListener* listener);
  void StopListening(uint32_t node, uint32_t port);
  ChannelId Connect(uint32_t node, Endpoint to, runtime::ChannelOptions options,
                    ChannelListener* sender);
  bool TrySend(uint32_t node, ChannelId channel, Buffer& buffer);
  bool SendEvent(uint32_t node, ChannelId channel, Buffer& buffer);
  uint32_t Credits(ChannelId channel) const;
  void ReturnCredit(uint32_t node, ChannelId channel);
  void Close(uint32_t node, ChannelId channel);
  Buffer TakeBuffer();

  // World hooks: a crashed node loses its listeners and its channels fail.
  void OnNodeCrash(uint32_t node);

  const NetworkStats& stats() const { return stats_; }
  // Buffers sent but not yet delivered, over all channels.
  size_t InFlight() const;

 private:
  enum class ChannelState { kConnecting, kOpen, kDead };
  struct LinkState {
    LinkOptions options;
    Time busy_until;
  };
  struct InFlightBuffer {
    Buffer data;
    uint64_t seq = 0;
    bool event = false;  // sent with SendEvent: no credit taken, none returned
  };
  // A FIFO of at most `capacity` buffers in a fixed ring (no allocation per buffer).
  class InFlightRing {
   public:
    void Reserve(uint32_t capacity) { slots_.resize(capacity); }
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    InFlightBuffer& front() { return slots_[head_]; }
    InFlightBuffer& at(size_t i) { return slots_[(head_ + i) % slots_.size()]; }
    void push_back(InFlightBuffer b) {
      FL_ASSERT(size_ < slots_.size(), "more buffers in flight than credits");
      slots_[(head_ + size_) % slots_.size()] = std::move(b);
      ++size_;
    }
    void pop_front() {
      head_ = (head_ + 1) % slots_.size();
      --size_;
    }
    void clear() {
      head_ = 0;
      size_ = 0;
    }

   private:
    std::vector<InFlightBuffer> slots_;
    size_t head_ = 0;
    size_t size_ = 0;
  };
  struct Channel {
    ChannelId id = 0;
    uint32_t from = 0;
    uint32_t from_incarnation = 0;
    Endpoint to;
    uint32_t to_incarnation = 0;
    ChannelState state = ChannelState::kConnecting;
    ChannelListener* sender = nullptr;
    ChannelListener* receiver = nullptr;
    uint32_t credits_max = 0;
    uint32_t credits = 0;           // held by the sender
    uint32_t unconsumed = 0;        // delivered, credit not yet returned
    uint32_t events_in_flight = 0;  // SendEvent buffers not yet delivered
    bool sender_waiting = false;    // TrySend found no credit: OnWritable owed
    uint64_t next_seq = 0;
    Time last_arrival;
    InFlightRing in_flight;         // <= credits_max entries
    LinkState* forward = nullptr;   // from -> to (stable: map nodes never move)
    LinkState* backward = nullptr;  // to -> from, for credits
  };
  struct PartitionSides {
    std::set<uint32_t> a;
    std::set<uint32_t> b;
  };

  Channel* Find(ChannelId id);
  const Channel* Find(ChannelId id) const;
  LinkState& LinkFor(uint32_t from, uint32_t to);
  Duration SampleLatency(const LinkOptions& link);
  void Accept(ChannelId id);
  void Establish(ChannelId id);
  void Deliver(ChannelId id, uint64_t seq);
  bool Transmit(Channel& ch, Buffer& buffer, bool event);
  // Kills a channel: drops what is in flight, tells each live side except `quiet_side`.
  void Fail(Channel& ch, const Status& why, uint32_t quiet_side);
  void NotifyFailed(ChannelId id, bool sender_side, Status why);
  void Recycle(Buffer& buffer);

  World* world_;
  NetworkOptions options_;
  Rng rng_;
  std::vector<std::unique_ptr<Channel>> channels_;  // index = id - 1; ids are never reused
  std::map<std::pair<uint32_t, uint32_t>, LinkState> links_;
  std::map<Endpoint, ChannelListener*> listeners_;
  std::map<uint64_t, PartitionSides> partitions_;
  uint64_t next_partition_id_ = 1;
  std::vector<Buffer> pool_;
  NetworkStats stats_;
};

}  // namespace faultline::sim
