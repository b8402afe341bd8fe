#include "runtime/gateway/backup_stream.hpp"

#include <algorithm>

namespace ballot::gateway {

backup_stream::backup_stream(std::string file, std::shared_ptr<bool> busy, kj::Timer& timer,
                             std::chrono::milliseconds stall, std::size_t chunk)
    : file_(std::move(file)), busy_(std::move(busy)), timer_(timer), stall_(stall), chunk_(chunk) {
  arm();
}

backup_stream::~backup_stream() noexcept(false) {
  release();
}

kj::Promise<void> backup_stream::next(NextContext context) {
  auto out = context.getResults().initResult();
  if (stalled_ || !busy_) {
    out.initError().setUnavailable(stalled_ ? "the backup stream was not pulled for " +
                                                std::to_string(stall_.count()) +
                                                " ms and ended; take a new snapshot"
                                            : "the backup stream is over");
    return kj::READY_NOW;
  }
  auto n = std::min(chunk_, file_.size() - offset_);
  out.setChunk(kj::arrayPtr(reinterpret_cast<const kj::byte*>(file_.data()) + offset_, n));
  offset_ += n;
  bool last = offset_ == file_.size();
  out.setLast(last);
  if (last)
    release();
  else
    arm();
  return kj::READY_NOW;
}

void backup_stream::arm() {
  cutoff_ = timer_.afterDelay(stall_.count() * kj::MILLISECONDS)
              .then([this] {
                stalled_ = true;
                release();
              })
              .eagerlyEvaluate(nullptr);
}

void backup_stream::release() {
  if (!busy_)
    return;
  *busy_ = false;
  busy_.reset();
  std::string{}.swap(file_);
}

}  // namespace ballot::gateway
