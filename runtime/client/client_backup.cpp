// Online backup in the client library (schemas/client.capnp `snapshot`):
// one call, then the stream's pieces pulled one after the other into the
// caller's sink. Before the first piece a failure is tried on another node
// like any read; after it the call ends, since a retry would be another
// backup (another file).
#include <memory>
#include <string>
#include <utility>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

namespace {

using schemas::client::SnapshotStream;
using sink_ptr =
  std::shared_ptr<const std::function<bool(const char*, std::size_t, std::uint64_t)>>;

/// The call ends (no retry) with what arrived so far and why it stopped.
outcome broken(const std::shared_ptr<backup_result>& got, const std::string& why) {
  auto o = finished(kv::result::error(kv::result_code::unavailable,
                                      why + " after " + std::to_string(got->received) + " of " +
                                        std::to_string(got->total_bytes) + " bytes"));
  o.backup = got;
  return o;
}

kj::Promise<outcome> pull(SnapshotStream::Client stream, sink_ptr sink,
                          std::shared_ptr<backup_result> got) {
  auto request = stream.nextRequest();
  return request.send().then(
    [stream, sink,
     got](capnp::Response<SnapshotStream::NextResults> r) mutable -> kj::Promise<outcome> {
      auto res = r.getResult();
      if (res.isError()) {
        auto e = res.getError();
        return broken(got, "the node ended the stream (" +
                             std::string{e.isUnavailable() ? e.getUnavailable().cStr() : "error"} +
                             ")");
      }
      auto chunk = res.getChunk();
      if (got->received + chunk.size() > got->total_bytes)
        return broken(got, "the node sent more than it announced");
      if (!(*sink)(reinterpret_cast<const char*>(chunk.begin()), chunk.size(), got->total_bytes))
        return broken(got, "the receiver stopped");
      got->received += chunk.size();
      if (res.getLast()) {
        if (got->received != got->total_bytes)
          return broken(got, "the stream ended early");
        auto o = finished(kv::result{});
        o.backup = got;
        return o;
      }
      return pull(kj::mv(stream), kj::mv(sink), kj::mv(got));
    },
    [got](kj::Exception&& e) -> outcome {
      if (got->received == 0)
        return retry(e.getDescription().cStr(), true);
      return broken(got, std::string{"the connection failed: "} + e.getDescription().cStr());
    });
}

}  // namespace

kj::Promise<outcome> client::impl::send_backup(link& l, const call& c) {
  auto sink = c.sink;
  return l.cap.snapshotRequest().send().then(
    [sink](capnp::Response<Ballot::SnapshotResults> r) -> kj::Promise<outcome> {
      auto res = r.getResult();
      if (!res.isInfo()) {
        auto e = res.getError();
        if (!e.isBusy())
          return from_error(e);
        auto o = finished(kv::result::error(kv::result_code::overloaded,
                                            "the node streams another backup now; retry later"));
        o.backup = std::make_shared<backup_result>();
        o.backup->busy = true;
        return o;
      }
      auto info = res.getInfo();
      auto got = std::make_shared<backup_result>();
      got->total_bytes = info.getTotalBytes();
      got->applied_index = info.getAppliedIndex();
      got->revision = info.getRevision();
      return pull(info.getStream(), sink, got);
    });
}

backup_result client::snapshot(
  const std::function<bool(const char* data, std::size_t n, std::uint64_t total)>& sink,
  std::chrono::milliseconds timeout) {
  auto c = make_call(op::snapshot, timeout);
  // One try may take the whole transfer.
  c->wait = timeout;
  c->sink =
    std::make_shared<const std::function<bool(const char*, std::size_t, std::uint64_t)>>(sink);
  auto o = impl_->wait(c);
  return answer_of(o.backup, o.res);
}

}  // namespace ballot::client
