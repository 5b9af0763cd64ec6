// A one-way control connection to another process: control messages queue while the channel
// is connecting or out of credit, and go out in order. Bounded: more than `queue_max` waiting
// messages is a failure of the peer (it stopped consuming), reported through `on_failed`.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <set>

#include "engine/exec/wire.h"
#include "engine/runtime/runtime.h"

namespace faultline::engine {

class ControlSender final : public runtime::ChannelListener {
 public:
  ControlSender(runtime::ProcessContext& context, runtime::Endpoint to,
                std::function<void(const Status&)> on_failed, size_t queue_max = 4096);
  ~ControlSender() override;
  ControlSender(const ControlSender&) = delete;
  ControlSender& operator=(const ControlSender&) = delete;

  void Send(const ControlMessage& message);
  bool failed() const { return failed_; }

  void OnWritable(runtime::ChannelId channel) override;
  void OnChannelFailed(runtime::ChannelId channel, const Status& why) override;

 private:
  void Pump();

  runtime::ProcessContext& ctx_;
  runtime::ChannelId channel_;
  std::function<void(const Status&)> on_failed_;
  size_t queue_max_;
  std::deque<Buffer> queue_;
  bool writable_ = false;
  bool failed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Receives control messages on a port from any number of senders, consuming each at once.
class ControlReceiver final : public runtime::ChannelListener {
 public:
  using Handler = std::function<void(runtime::ChannelId, ControlMessage)>;
  using FailureHandler = std::function<void(runtime::ChannelId, const Status&)>;
  ControlReceiver(runtime::ProcessContext& context, uint32_t port, Handler on_message,
                  FailureHandler on_failed);
  ~ControlReceiver() override;
  Status status() const { return status_; }
  // Closes one accepted channel (its sender sees the failure).
  void Close(runtime::ChannelId channel);

  void OnAccepted(runtime::ChannelId channel, runtime::Endpoint from) override;
  void OnReceive(runtime::ChannelId channel, runtime::Buffer& buffer) override;
  void OnChannelFailed(runtime::ChannelId channel, const Status& why) override;

 private:
  runtime::ProcessContext& ctx_;
  uint32_t port_;
  std::set<runtime::ChannelId> channels_;  // accepted, still open
  Handler on_message_;
  FailureHandler on_failed_;
  Status status_;
};

}  // namespace faultline::engine
