#include "simulator/network.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "simulator/world.h"

namespace faultline::sim {
namespace {

using runtime::Buffer;
using runtime::ChannelId;
using runtime::Endpoint;

// A receiver that records every buffer and consumes each after `consume_delay` (never, if
// negative), returning its credit.
struct Receiver : runtime::ChannelListener {
  World* world;
  uint32_t node;
  Duration consume_delay;
  std::vector<uint64_t> received;  // first 8 bytes of each buffer
  std::vector<ChannelId> accepted;
  std::vector<Status> failures;

  Receiver(World* w, uint32_t n, Duration delay) : world(w), node(n), consume_delay(delay) {}
  void OnAccepted(ChannelId channel, Endpoint) override { accepted.push_back(channel); }
  void OnReceive(ChannelId channel, Buffer& buffer) override {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{buffer[static_cast<size_t>(i)]} << (8 * i);
    received.push_back(v);
    if (consume_delay < Duration::Zero()) return;
    world->loop().ScheduleAfter(
        consume_delay, [this, channel] { world->network().ReturnCredit(node, channel); },
        world->OwnerOf(node));
  }
  void OnChannelFailed(ChannelId, const Status& why) override { failures.push_back(why); }
};

// A sender that pushes `total` numbered buffers as fast as credit allows.
struct Sender : runtime::ChannelListener {
  World* world;
  uint32_t node;
  ChannelId channel = 0;
  uint64_t next = 0;
  uint64_t total;
  size_t bytes;
  int writable_calls = 0;
  std::vector<Status> failures;

  Sender(World* w, uint32_t n, uint64_t count, size_t size = 64)
      : world(w), node(n), total(count), bytes(size) {}
  void OnWritable(ChannelId) override {
    ++writable_calls;
    Pump();
  }
  void Pump() {
    while (next < total) {
      Buffer b = world->network().TakeBuffer();
      b.resize(bytes);
      for (int i = 0; i < 8; ++i) b[static_cast<size_t>(i)] = static_cast<uint8_t>(next >> (8 * i));
      if (!world->network().TrySend(node, channel, b)) return;
      ++next;
    }
  }
  void OnChannelFailed(ChannelId, const Status& why) override { failures.push_back(why); }
};

class NetworkTest : public ::testing::Test {
 protected:
  NetworkTest() : world_(WorldOptions{.seed = 3}) {
    a_ = world_.AddNode("a", nullptr);
    b_ = world_.AddNode("b", nullptr);
    c_ = world_.AddNode("c", nullptr);
    for (uint32_t n : {a_, b_, c_}) world_.Start(n);
    // Fixed 1ms latency between a and b, so tests can stop between protocol steps.
    world_.network().SetLink(a_, b_,
                             LinkOptions{.latency_min = Duration::Millis(1),
                                         .latency_exponential_mean = Duration::Zero(),
                                         .bandwidth_bytes_per_second = 0});
  }
  World world_;
  uint32_t a_, b_, c_;
};

TEST_F(NetworkTest, FifoAndLosslessWithAFastReceiver) {
  Receiver receiver(&world_, b_, Duration::Micros(10));
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 2000);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 4}, &sender);
  world_.RunUntilQuiescent(1'000'000);
  ASSERT_EQ(receiver.received.size(), 2000u);
  for (uint64_t i = 0; i < 2000; ++i) ASSERT_EQ(receiver.received[i], i);
  EXPECT_EQ(world_.network().stats().dropped, 0u);
}

TEST_F(NetworkTest, SlowReceiverBackPressuresTheSender) {
  Receiver receiver(&world_, b_, Duration::Millis(-1));  // never consumes
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 100);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 3}, &sender);
  world_.RunFor(Duration::Seconds(1));
  // Exactly the credit window got through; the sender stalled and holds no credit.
  EXPECT_EQ(receiver.received.size(), 3u);
  EXPECT_EQ(sender.next, 3u);
  EXPECT_EQ(world_.network().Credits(sender.channel), 0u);
  EXPECT_EQ(world_.network().stats().credit_stalls, 1u);
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kCreditStall), 1u);

  // Consuming one buffer returns one credit and wakes the sender: one more gets through.
  world_.network().ReturnCredit(b_, sender.channel);
  world_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(receiver.received.size(), 4u);
  EXPECT_EQ(sender.writable_calls, 2);  // established + one wake-up
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(receiver.received[i], i);
}

TEST_F(NetworkTest, ReceiverSlowerThanSenderStallsRepeatedlyButLosesNothing) {
  Receiver receiver(&world_, b_, Duration::Millis(2));
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 500);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 2}, &sender);
  world_.RunUntilQuiescent(1'000'000);
  ASSERT_EQ(receiver.received.size(), 500u);
  for (uint64_t i = 0; i < 500; ++i) ASSERT_EQ(receiver.received[i], i);
  EXPECT_GT(world_.network().stats().credit_stalls, 100u);
  // The receiver's pace bounds the run: about 500 x 2ms.
  EXPECT_GE(world_.now(), Time::Zero() + Duration::Millis(998));
}

TEST_F(NetworkTest, BandwidthLimitsThroughput) {
  world_.network().SetLink(a_, b_,
                           LinkOptions{.latency_min = Duration::Micros(10),
                                       .latency_exponential_mean = Duration::Zero(),
                                       .bandwidth_bytes_per_second = 1'000'000});
  Receiver receiver(&world_, b_, Duration::Zero());
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 10, 100'000);  // 1 MB at 1 MB/s
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 10}, &sender);
  world_.RunUntilQuiescent(100'000);
  EXPECT_EQ(receiver.received.size(), 10u);
  EXPECT_GE(world_.now(), Time::Zero() + Duration::Seconds(1));
  EXPECT_LT(world_.now(), Time::Zero() + Duration::Millis(1010));
}

TEST_F(NetworkTest, PartitionFailsTheConnectionAndTellsBothEnds) {
  Receiver receiver(&world_, b_, Duration::Millis(-1));
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 3);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 3}, &sender);
  world_.RunFor(Duration::Micros(2500));  // established at 2ms; buffers arrive at 3ms
  ASSERT_EQ(receiver.accepted.size(), 1u);
  world_.network().Partition({a_}, {b_});
  world_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(sender.failures.size(), 1u);
  ASSERT_EQ(receiver.failures.size(), 1u);
  EXPECT_EQ(sender.failures[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(sender.failures[0].message().find("partition"), std::string::npos);
  // Every buffer is accounted for: delivered before the cut, or dropped with the channel.
  EXPECT_TRUE(receiver.received.empty());
  EXPECT_EQ(world_.network().stats().dropped, 3u);
  EXPECT_FALSE(world_.network().Reachable(a_, b_));
  EXPECT_TRUE(world_.network().Reachable(a_, c_));

  // New connections across the partition fail; after healing they work.
  Sender retry(&world_, a_, 1);
  retry.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 1}, &retry);
  world_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(retry.failures.size(), 1u);
  world_.network().HealAll();
  Sender healed(&world_, a_, 1);
  healed.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 1}, &healed);
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(healed.failures.empty());
  EXPECT_EQ(healed.next, 1u);
}

TEST_F(NetworkTest, NoDeliveryToADeadIncarnation) {
  world_.network().SetLink(a_, b_,
                           LinkOptions{.latency_min = Duration::Millis(10),
                                       .latency_exponential_mean = Duration::Zero(),
                                       .bandwidth_bytes_per_second = 0});
  Receiver receiver(&world_, b_, Duration::Zero());
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 5);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 5}, &sender);
  world_.RunFor(Duration::Millis(25));  // established at 20ms, buffers arrive at 30ms
  ASSERT_EQ(sender.next, 5u);
  ASSERT_TRUE(receiver.received.empty());
  const size_t drops_before = world_.trace().CountOf(TraceKind::kDrop);
  world_.Crash(b_, "test");
  world_.Restart(b_);
  Receiver reborn(&world_, b_, Duration::Zero());
  ASSERT_TRUE(world_.network().Listen(b_, 1, &reborn).ok());
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(receiver.received.empty());
  EXPECT_TRUE(reborn.received.empty());
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kDrop) - drops_before, 5u);
  ASSERT_EQ(sender.failures.size(), 1u);
  EXPECT_NE(sender.failures[0].message().find("crashed"), std::string::npos);
  // The dead incarnation's listener was not told anything after its death.
  EXPECT_TRUE(receiver.failures.empty());
}

TEST_F(NetworkTest, ConnectionRefusedWithoutAListener) {
  Sender sender(&world_, a_, 1);
  sender.channel = world_.network().Connect(a_, Endpoint{c_, 9}, {.credits = 1}, &sender);
  world_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(sender.failures.size(), 1u);
  EXPECT_NE(sender.failures[0].message().find("refused"), std::string::npos);
  EXPECT_EQ(sender.next, 0u);
}

TEST_F(NetworkTest, CloseTellsOnlyThePeer) {
  Receiver receiver(&world_, b_, Duration::Zero());
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 1);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 1}, &sender);
  world_.RunFor(Duration::Seconds(1));
  world_.network().Close(a_, sender.channel);
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(sender.failures.empty());
  ASSERT_EQ(receiver.failures.size(), 1u);
  EXPECT_EQ(receiver.failures[0].code(), StatusCode::kCancelled);
  EXPECT_FALSE(world_.network().Listen(b_, 1, &receiver).ok()) << "port already taken";
}

TEST_F(NetworkTest, PausedReceiverHoldsDeliveriesUntilResume) {
  Receiver receiver(&world_, b_, Duration::Zero());
  ASSERT_TRUE(world_.network().Listen(b_, 1, &receiver).ok());
  Sender sender(&world_, a_, 2);
  sender.channel = world_.network().Connect(a_, Endpoint{b_, 1}, {.credits = 2}, &sender);
  world_.RunFor(Duration::Micros(2500));  // established at 2ms; buffers arrive at 3ms
  ASSERT_EQ(receiver.accepted.size(), 1u);
  world_.Pause(b_);
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(receiver.received.empty());
  world_.Resume(b_);
  world_.RunFor(Duration::Millis(1));
  ASSERT_EQ(receiver.received.size(), 2u);
  EXPECT_EQ(receiver.received[0], 0u);
  EXPECT_EQ(receiver.received[1], 1u);
}

}  // namespace
}  // namespace faultline::sim
