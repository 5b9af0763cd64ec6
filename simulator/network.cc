#include "simulator/network.h"

#include <algorithm>
#include <string>

#include "base/assert.h"
#include "base/int128.h"
#include "simulator/world.h"

namespace faultline::sim {
namespace {

constexpr uint32_t kNone = 0xffffffffu;

std::string NodeText(uint32_t node) {
  return "node " + std::to_string(node);
}

}  // namespace

Network::Network(World* world, NetworkOptions options)
    : world_(world), options_(options), rng_(world->ForkRng("network")) {}

Network::Channel* Network::Find(ChannelId id) {
  if (id == 0 || id > channels_.size()) return nullptr;
  return channels_[id - 1].get();
}

const Network::Channel* Network::Find(ChannelId id) const {
  if (id == 0 || id > channels_.size()) return nullptr;
  return channels_[id - 1].get();
}

void Network::SetLink(uint32_t a, uint32_t b, LinkOptions options) {
  FL_ASSERT(options.latency_min >= Duration::Zero());
  FL_ASSERT(options.latency_exponential_mean >= Duration::Zero());
  FL_ASSERT(options.bandwidth_bytes_per_second >= 0);
  LinkFor(a, b).options = options;
  LinkFor(b, a).options = options;
}

const LinkOptions& Network::Link(uint32_t from, uint32_t to) const {
  auto it = links_.find({from, to});
  return it == links_.end() ? options_.default_link : it->second.options;
}

Network::LinkState& Network::LinkFor(uint32_t from, uint32_t to) {
  auto [it, inserted] = links_.try_emplace({from, to});
  if (inserted) it->second.options = options_.default_link;
  return it->second;
}

Duration Network::SampleLatency(const LinkOptions& link) {
  return link.latency_min + rng_.ExponentialDuration(link.latency_exponential_mean);
}

// --- partitions -----------------------------------------------------------------------------

uint64_t Network::Partition(const std::vector<uint32_t>& side_a,
                            const std::vector<uint32_t>& side_b) {
  const uint64_t id = next_partition_id_++;
  PartitionSides& sides = partitions_[id];
  int64_t mask_a = 0;
  int64_t mask_b = 0;
  for (uint32_t n : side_a) {
    sides.a.insert(n);
    if (n < 63) mask_a |= int64_t{1} << n;
  }
  for (uint32_t n : side_b) {
    sides.b.insert(n);
    if (n < 63) mask_b |= int64_t{1} << n;
  }
  world_->Record(TraceKind::kPartition, kNone, {static_cast<int64_t>(id), mask_a, mask_b, 0});
  for (auto& owned : channels_) {
    Channel& ch = *owned;
    if (ch.state == ChannelState::kDead || Reachable(ch.from, ch.to.node)) continue;
    Fail(ch,
         UnavailableError("network partition between " + NodeText(ch.from) + " and " +
                          NodeText(ch.to.node)),
         kNone);
  }
  return id;
}

void Network::Heal(uint64_t partition_id) {
  if (partitions_.erase(partition_id) == 0) return;
  world_->Record(TraceKind::kHeal, kNone, {static_cast<int64_t>(partition_id), 0, 0, 0});
}

void Network::HealAll() {
  while (!partitions_.empty()) Heal(partitions_.begin()->first);
}

bool Network::Reachable(uint32_t a, uint32_t b) const {
  for (const auto& [id, sides] : partitions_) {
    if ((sides.a.count(a) && sides.b.count(b)) || (sides.a.count(b) && sides.b.count(a))) {
      return false;
    }
  }
  return true;
}

// --- listening and connecting ---------------------------------------------------------------

Status Network::Listen(uint32_t node, uint32_t port, ChannelListener* listener) {
  FL_ASSERT(listener != nullptr);
  auto [it, inserted] = listeners_.try_emplace(Endpoint{node, port}, listener);
  if (!inserted) {
    return AlreadyExistsError(NodeText(node) + " already listens on port " + std::to_string(port));
  }
  return Status::Ok();
}

void Network::StopListening(uint32_t node, uint32_t port) {
  auto it = listeners_.find(Endpoint{node, port});
  if (it == listeners_.end()) return;
  ChannelListener* listener = it->second;
  listeners_.erase(it);
  // The listener may be destroyed next, and it may not know every channel accepted for it yet
  // (an acceptance still on its way, e.g. while the process was paused): the network never
  // calls it again, and such channels fail towards their senders.
  for (auto& owned : channels_) {
    Channel& ch = *owned;
    if (ch.to != Endpoint{node, port} || ch.receiver != listener) continue;
    ch.receiver = nullptr;
    if (ch.state != ChannelState::kDead) {
      Fail(ch,
           CancelledError("node " + std::to_string(node) + " stopped listening on port " +
                          std::to_string(port)),
           node);
    }
  }
}

Network::ChannelId Network::Connect(uint32_t node, Endpoint to, runtime::ChannelOptions options,
                                    ChannelListener* sender) {
  FL_ASSERT(sender != nullptr);
  FL_ASSERT(options.credits > 0 && options.credits <= options_.credits_max,
            "channel credits must be in [1, credits_max]");
  FL_ASSERT(world_->IsUp(node), "a node that is down cannot connect");
  channels_.push_back(std::make_unique<Channel>());
  Channel& ch = *channels_.back();
  ch.id = channels_.size();
  ch.from = node;
  ch.from_incarnation = world_->Incarnation(node);
  ch.to = to;
  ch.sender = sender;
  ch.credits_max = options.credits;
  ch.in_flight.Reserve(options.credits + runtime::Transport::kEventsInFlightMax);
  ch.last_arrival = world_->now();
  ch.forward = &LinkFor(node, to.node);
  ch.backward = &LinkFor(to.node, node);
  ++stats_.channels_opened;
  world_->Record(TraceKind::kConnect, node,
                 {static_cast<int64_t>(ch.id), to.node, to.port, options.credits});
  const ChannelId id = ch.id;
  Duration delay = SampleLatency(ch.forward->options);
  if (!world_->faults().empty()) {
    FaultEffect effect = world_->faults().Check(
        FaultSite{FaultPoint::kNetConnect, world_->now(), node, to.node, {}, 0},
        world_->Incarnation(node));
    delay += effect.extra_delay;
    if (!effect.error.ok()) {
      world_->loop().ScheduleAfter(delay, [this, id, why = effect.error] {
        if (Channel* c = Find(id)) Fail(*c, why, kNone);
      });
      return id;
    }
  }
  world_->loop().ScheduleAfter(delay, [this, id] { Accept(id); });
  return id;
}

void Network::Accept(ChannelId id) {
  Channel& ch = *Find(id);
  if (ch.state != ChannelState::kConnecting) return;
  const std::string where = NodeText(ch.to.node) + " port " + std::to_string(ch.to.port);
  if (!Reachable(ch.from, ch.to.node)) {
    Fail(ch, UnavailableError("cannot connect to " + where + ": network partition"), kNone);
    return;
  }
  auto it = listeners_.find(ch.to);
  if (!world_->IsUp(ch.to.node) || it == listeners_.end()) {
    Fail(ch, UnavailableError("connection refused by " + where), kNone);
    return;
  }
  ch.receiver = it->second;
  ch.to_incarnation = world_->Incarnation(ch.to.node);
  world_->loop().Schedule(
      world_->now(),
      [this, id] {
        Channel& c = *Find(id);
        if (c.state == ChannelState::kDead) return;
        world_->Record(TraceKind::kAccept, c.to.node,
                       {static_cast<int64_t>(id), c.from, c.to.port, 0});
        if (c.receiver == nullptr) return;  // the listener stopped listening meanwhile
        c.receiver->OnAccepted(id, Endpoint{c.from, 0});
        if (c.state == ChannelState::kDead) return;
        const Duration back = SampleLatency(c.backward->options);
        world_->loop().ScheduleAfter(
            back, [this, id] { Establish(id); }, EventOwner{c.from, c.from_incarnation});
      },
      EventOwner{ch.to.node, ch.to_incarnation});
}

void Network::Establish(ChannelId id) {
  Channel& ch = *Find(id);
  if (ch.state != ChannelState::kConnecting) return;
  ch.state = ChannelState::kOpen;
  ch.credits = ch.credits_max;
  world_->Record(TraceKind::kEstablished, ch.from,
                 {static_cast<int64_t>(id), ch.to.node, ch.credits, 0});
  ch.sender->OnWritable(id);
}

// --- data path ------------------------------------------------------------------------------

bool Network::TrySend(uint32_t node, ChannelId id, Buffer& buffer) {
  Channel* found = Find(id);
  FL_ASSERT(found != nullptr && found->from == node, "TrySend on a channel this node did not open");
  Channel& ch = *found;
  if (ch.state != ChannelState::kOpen) return false;
  if (ch.credits == 0) {
    if (!ch.sender_waiting) {
      ch.sender_waiting = true;
      ++stats_.credit_stalls;
      world_->Record(TraceKind::kCreditStall, node,
                     {static_cast<int64_t>(id), ch.to.node, ch.credits_max, 0});
    }
    return false;
  }
  --ch.credits;
  return Transmit(ch, buffer, /*event=*/false);
}

bool Network::SendEvent(uint32_t node, ChannelId id, Buffer& buffer) {
  Channel* found = Find(id);
  FL_ASSERT(found != nullptr && found->from == node,
            "SendEvent on a channel this node did not open");
  Channel& ch = *found;
  if (ch.state != ChannelState::kOpen ||
      ch.events_in_flight >= runtime::Transport::kEventsInFlightMax) {
    return false;
  }
  ++ch.events_in_flight;
  return Transmit(ch, buffer, /*event=*/true);
}

bool Network::Transmit(Channel& ch, Buffer& buffer, bool event) {
  const uint32_t node = ch.from;
  const ChannelId id = ch.id;
  const Time now = world_->now();
  LinkState& link = *ch.forward;
  Duration extra;
  if (!world_->faults().empty()) {
    extra = world_->faults()
                .Check(FaultSite{FaultPoint::kNetSend, now, node, ch.to.node, {}, buffer.size()},
                       ch.from_incarnation)
                .extra_delay;
  }
  const int64_t bytes = static_cast<int64_t>(buffer.size());
  Time transmitted = std::max(now, link.busy_until);
  if (link.options.bandwidth_bytes_per_second > 0) {
    FL_ASSERT(bytes < (int64_t{1} << 33), "a buffer of 8 GiB or more");
    transmitted += Duration::Nanos(bytes * 1'000'000'000 / link.options.bandwidth_bytes_per_second);
  }
  link.busy_until = transmitted;
  const Time arrival = std::max(transmitted + SampleLatency(link.options) + extra, ch.last_arrival);
  ch.last_arrival = arrival;
  const uint64_t seq = ch.next_seq++;
  ch.in_flight.push_back(InFlightBuffer{std::move(buffer), seq, event});
  buffer.clear();
  ++stats_.sent;
  world_->Record(TraceKind::kSend, node,
                 {static_cast<int64_t>(id), ch.to.node, bytes, static_cast<int64_t>(seq)});
  world_->loop().Schedule(
      arrival, [this, id, seq] { Deliver(id, seq); }, EventOwner{ch.to.node, ch.to_incarnation});
  return true;
}

void Network::Deliver(ChannelId id, uint64_t seq) {
  Channel& ch = *Find(id);
  if (ch.state == ChannelState::kDead || ch.in_flight.empty() || ch.in_flight.front().seq != seq) {
    return;  // the channel failed after this buffer was sent; the drop is already recorded
  }
  Buffer data = std::move(ch.in_flight.front().data);
  const bool event = ch.in_flight.front().event;
  ch.in_flight.pop_front();
  if (event) {
    --ch.events_in_flight;
  } else {
    ++ch.unconsumed;
  }
  ++stats_.delivered;
  stats_.bytes_delivered += data.size();
  world_->Record(TraceKind::kDeliver, ch.to.node,
                 {static_cast<int64_t>(id), ch.from, static_cast<int64_t>(data.size()),
                  static_cast<int64_t>(seq)});
  ch.receiver->OnReceive(id, data);
  Recycle(data);
}

uint32_t Network::Credits(ChannelId id) const {
  const Channel* ch = Find(id);
  return ch == nullptr || ch->state != ChannelState::kOpen ? 0 : ch->credits;
}

void Network::ReturnCredit(uint32_t node, ChannelId id) {
  Channel* found = Find(id);
  FL_ASSERT(found != nullptr && found->to.node == node,
            "ReturnCredit on a channel this node did not accept");
  Channel& ch = *found;
  if (ch.state == ChannelState::kDead) return;
  FL_ASSERT(ch.unconsumed > 0, "ReturnCredit without a delivered, unconsumed buffer");
  --ch.unconsumed;
  const Duration back = SampleLatency(ch.backward->options);
  world_->loop().ScheduleAfter(
      back,
      [this, id] {
        Channel& c = *Find(id);
        if (c.state != ChannelState::kOpen) return;
        ++c.credits;
        FL_ASSERT(c.credits <= c.credits_max, "credit window overflow");
        world_->Record(TraceKind::kCreditReturn, c.from,
                       {static_cast<int64_t>(id), c.to.node, c.credits, 0});
        if (c.sender_waiting) {
          c.sender_waiting = false;
          c.sender->OnWritable(id);
        }
      },
      EventOwner{ch.from, ch.from_incarnation});
}

void Network::Close(uint32_t node, ChannelId id) {
  Channel* ch = Find(id);
  if (ch == nullptr) return;
  FL_ASSERT(ch->from == node || ch->to.node == node, "Close on a foreign channel");
  // The closing side's listener is never called again for this channel (it may be about to
  // be destroyed), even if a failure notification is already on its way.
  if (ch->from == node) ch->sender = nullptr;
  if (ch->to.node == node) ch->receiver = nullptr;
  if (ch->state == ChannelState::kDead) return;
  Fail(*ch, CancelledError("channel closed by " + NodeText(node)), node);
}

Network::Buffer Network::TakeBuffer() {
  if (pool_.empty()) return Buffer();
  Buffer buffer = std::move(pool_.back());
  pool_.pop_back();
  return buffer;
}

void Network::Recycle(Buffer& buffer) {
  if (buffer.capacity() == 0 || pool_.size() >= options_.pooled_buffers_max) return;
  buffer.clear();
  pool_.push_back(std::move(buffer));
}

// --- failures -------------------------------------------------------------------------------

void Network::Fail(Channel& ch, const Status& why, uint32_t quiet_node) {
  if (ch.state == ChannelState::kDead) return;
  ch.state = ChannelState::kDead;
  ++stats_.channels_failed;
  for (size_t i = 0; i < ch.in_flight.size(); ++i) {
    InFlightBuffer& lost = ch.in_flight.at(i);
    ++stats_.dropped;
    world_->Record(TraceKind::kDrop, ch.to.node,
                   {static_cast<int64_t>(ch.id), ch.from, static_cast<int64_t>(lost.data.size()),
                    static_cast<int64_t>(lost.seq)},
                   why.message());
    Recycle(lost.data);
  }
  ch.in_flight.clear();
  // A node that closed or crashed is not told; for a channel to itself that silences both ends.
  if (ch.from != quiet_node && world_->IsUp(ch.from) &&
      world_->Incarnation(ch.from) == ch.from_incarnation) {
    NotifyFailed(ch.id, /*sender_side=*/true, why);
  }
  if (ch.receiver != nullptr && ch.to.node != quiet_node && world_->IsUp(ch.to.node) &&
      world_->Incarnation(ch.to.node) == ch.to_incarnation) {
    NotifyFailed(ch.id, /*sender_side=*/false, why);
  }
}

void Network::NotifyFailed(ChannelId id, bool sender_side, Status why) {
  const Channel& ch = *Find(id);
  const EventOwner owner = sender_side ? EventOwner{ch.from, ch.from_incarnation}
                                       : EventOwner{ch.to.node, ch.to_incarnation};
  world_->loop().Schedule(
      world_->now(),
      [this, id, sender_side, why = std::move(why)] {
        const Channel& c = *Find(id);
        const uint32_t self = sender_side ? c.from : c.to.node;
        const uint32_t peer = sender_side ? c.to.node : c.from;
        world_->Record(TraceKind::kChannelFailed, self,
                       {static_cast<int64_t>(id), peer, static_cast<int64_t>(why.code()), 0},
                       why.message());
        ChannelListener* listener = sender_side ? c.sender : c.receiver;
        if (listener != nullptr) listener->OnChannelFailed(id, why);
      },
      owner);
}

void Network::OnNodeCrash(uint32_t node) {
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    it = it->first.node == node ? listeners_.erase(it) : std::next(it);
  }
  for (auto& owned : channels_) {
    Channel& ch = *owned;
    if (ch.state == ChannelState::kDead) continue;
    if (ch.from == node || ch.to.node == node) {
      Fail(ch, UnavailableError("connection reset: " + NodeText(node) + " crashed"), node);
    }
  }
}

size_t Network::InFlight() const {
  size_t n = 0;
  for (const auto& ch : channels_) n += ch->in_flight.size();
  return n;
}

}  // namespace faultline::sim
