#include "engine/exec/control_channel.h"

namespace faultline::engine {

ControlSender::ControlSender(runtime::ProcessContext& context, runtime::Endpoint to,
                             std::function<void(const Status&)> on_failed, size_t queue_max)
    : ctx_(context), on_failed_(std::move(on_failed)), queue_max_(queue_max) {
  channel_ = ctx_.transport->Connect(to, {.credits = 64}, this);
}

ControlSender::~ControlSender() {
  *alive_ = false;
  ctx_.transport->Close(channel_);
}

void ControlSender::Send(const ControlMessage& message) {
  if (failed_) return;
  if (queue_.size() >= queue_max_) {
    failed_ = true;
    ctx_.scheduler->Post([this, alive = alive_] {
      if (*alive)
        on_failed_(ResourceExhaustedError("control queue full: the peer stopped consuming"));
    });
    return;
  }
  Buffer buffer = ctx_.transport->TakeBuffer();
  EncodeControl(buffer, message);
  queue_.push_back(std::move(buffer));
  Pump();
}

void ControlSender::Pump() {
  while (writable_ && !queue_.empty()) {
    if (!ctx_.transport->TrySend(channel_, queue_.front())) return;
    queue_.pop_front();
  }
}

void ControlSender::OnWritable(runtime::ChannelId channel) {
  if (channel != channel_) return;
  writable_ = true;
  Pump();
}

void ControlSender::OnChannelFailed(runtime::ChannelId channel, const Status& why) {
  if (channel != channel_ || failed_) return;
  failed_ = true;
  // Reported from a task of its own, so the owner may destroy this sender in the callback.
  ctx_.scheduler->Post([this, alive = alive_, why] {
    if (*alive) on_failed_(why);
  });
}

ControlReceiver::ControlReceiver(runtime::ProcessContext& context, uint32_t port,
                                 Handler on_message, FailureHandler on_failed)
    : ctx_(context),
      port_(port),
      on_message_(std::move(on_message)),
      on_failed_(std::move(on_failed)) {
  status_ = ctx_.transport->Listen(port_, this);
}

ControlReceiver::~ControlReceiver() {
  ctx_.transport->StopListening(port_);
  for (runtime::ChannelId channel : channels_) ctx_.transport->Close(channel);
}

void ControlReceiver::Close(runtime::ChannelId channel) {
  if (channels_.erase(channel) > 0) ctx_.transport->Close(channel);
}

void ControlReceiver::OnAccepted(runtime::ChannelId channel, runtime::Endpoint from) {
  (void)from;
  channels_.insert(channel);
}

void ControlReceiver::OnReceive(runtime::ChannelId channel, runtime::Buffer& buffer) {
  Result<ControlMessage> message = DecodeControl(buffer);
  ctx_.transport->ReturnCredit(channel);
  if (!message.ok()) {
    ctx_.transport->Close(channel);
    channels_.erase(channel);
    on_failed_(channel, message.status());
    return;
  }
  on_message_(channel, std::move(*message));
}

void ControlReceiver::OnChannelFailed(runtime::ChannelId channel, const Status& why) {
  channels_.erase(channel);
  on_failed_(channel, why);
}

}  // namespace faultline::engine
