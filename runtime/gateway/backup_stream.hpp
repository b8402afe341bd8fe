#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <kj/timer.h>

#include "schemas/client.capnp.h"

namespace ballot::gateway {

/// One online backup being pulled (schemas/client.capnp `SnapshotStream`):
/// the whole file, made at one applied index, handed out in pieces of at
/// most `chunk` bytes. The node's one backup slot (`busy`) is held until the
/// last piece is taken, the caller drops the capability, or `stall` passes
/// without a pull; then the file's memory is freed at once.
class backup_stream final : public schemas::client::SnapshotStream::Server {
 public:
  backup_stream(std::string file, std::shared_ptr<bool> busy, kj::Timer& timer,
                std::chrono::milliseconds stall, std::size_t chunk);
  ~backup_stream() noexcept(false);

 protected:
  kj::Promise<void> next(NextContext context) override;

 private:
  /// (Re)starts the stall cutoff.
  void arm();
  /// Frees the file and the node's slot (once).
  void release();

  std::string file_;
  std::size_t offset_ = 0;
  std::shared_ptr<bool> busy_;
  kj::Timer& timer_;
  std::chrono::milliseconds stall_;
  std::size_t chunk_;
  bool stalled_ = false;
  kj::Maybe<kj::Promise<void>> cutoff_;
};

}  // namespace ballot::gateway
