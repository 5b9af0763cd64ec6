// Network channels between processes, modelled on Flink's credit-based flow control: FIFO
// delivery of byte buffers, and a credit window per channel. A sender may have at most
// `credits` buffers outstanding; the receiver returns one credit when it has *consumed* a
// buffer. A slow consumer thus back-pressures its producers, and every queue stays bounded.
//
// Records cross process and task boundaries only as bytes in these buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "engine/runtime/ids.h"

namespace faultline::runtime {

using Buffer = std::vector<uint8_t>;

// Callbacks run on the process that owns the listener. A listener must outlive its registration
// (Stop listening / Close the channel before destroying it); a crash drops registrations.
class ChannelListener {
 public:
  virtual ~ChannelListener() = default;
  // Receiver side: a peer opened `channel` to one of our listening ports.
  virtual void OnAccepted(ChannelId channel, Endpoint from) {
    (void)channel;
    (void)from;
  }
  // Receiver side: the next buffer, in send order. The listener may move it out; it owns the
  // buffer then. It must call Transport::ReturnCredit once it has consumed the buffer (but not
  // for an event sent with SendEvent).
  virtual void OnReceive(ChannelId channel, Buffer& buffer) {
    (void)channel;
    (void)buffer;
  }
  // Sender side: the channel has credit again after TrySend found none (or is first usable).
  virtual void OnWritable(ChannelId channel) { (void)channel; }
  // Either side: the connection failed (partition, peer crash, peer closed). Undelivered
  // buffers are lost; the channel is dead and will never call back again.
  virtual void OnChannelFailed(ChannelId channel, const Status& why) {
    (void)channel;
    (void)why;
  }
};

struct ChannelOptions {
  uint32_t credits = 2;  // buffers the sender may have outstanding (> 0)
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Accepts channels addressed to `port` of this process.
  virtual Status Listen(uint32_t port, ChannelListener* listener) = 0;
  // Stops accepting on `port`. The listener is never called again, not even for channels it
  // has not heard of yet; channels accepted for it that are still open fail towards their
  // senders.
  virtual void StopListening(uint32_t port) = 0;

  // Opens a channel to `to`. Connection set-up takes time: the sender's OnWritable fires when
  // the channel is usable, or OnChannelFailed when `to` cannot be reached.
  virtual ChannelId Connect(Endpoint to, ChannelOptions options, ChannelListener* sender) = 0;

  // Sends `buffer` when a credit is available: then takes the buffer and returns true. Without
  // credit returns false and leaves `buffer` alone; OnWritable fires when credit returns.
  virtual bool TrySend(ChannelId channel, Buffer& buffer) = 0;
  // Sends a control event that needs no credit (an unaligned checkpoint barrier): it still
  // travels in order behind the buffers already on the wire, and the receiver returns no credit
  // for it. At most kEventsInFlightMax may be outstanding per channel; returns false (and
  // leaves `buffer`) when the channel is not open or that bound is reached.
  static constexpr uint32_t kEventsInFlightMax = 8;
  virtual bool SendEvent(ChannelId channel, Buffer& buffer) = 0;
  // Credits the sender holds now.
  virtual uint32_t Credits(ChannelId channel) const = 0;
  // Receiver: one buffer of `channel` was consumed; its credit travels back to the sender.
  virtual void ReturnCredit(ChannelId channel) = 0;
  // Closes a channel from either side; the peer sees OnChannelFailed(Cancelled). After Close
  // this side's listener is never called again for the channel, even for a failure already
  // under way, so a listener may close its channels and then be destroyed.
  virtual void Close(ChannelId channel) = 0;

  // An empty buffer with reusable capacity (avoids an allocation per buffer).
  virtual Buffer TakeBuffer() { return Buffer(); }
};

}  // namespace faultline::runtime
