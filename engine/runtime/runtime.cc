#include "engine/runtime/runtime.h"

namespace faultline::runtime {

bool IsComplete(const ProcessContext& context) {
  return context.node != kNoNode && context.clock != nullptr && context.scheduler != nullptr &&
         context.transport != nullptr && context.local_fs != nullptr &&
         context.blob_store != nullptr && context.ha_store != nullptr &&
         context.source_log != nullptr && context.output_store != nullptr &&
         context.events != nullptr;
}

}  // namespace faultline::runtime
