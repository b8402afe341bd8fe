// Online backup (schemas/client.capnp `snapshot`, README "Backup and
// restore"): the leader's replica takes its whole applied state at a
// linearizable read point (actors/replica answers the backup query), this
// node wraps it into a backup file on a helper thread (hashing hundreds of
// megabytes must not stall the loop), and a `backup_stream` hands the file
// out in pieces while writes go on.
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "actors/backup/backup_format.hpp"
#include "runtime/gateway/backup_stream.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

/// One backup call's progress: the replica's answer, then the file made from
/// it (or why not). Shared with the helper thread, which writes `file` and
/// `why` before it signals.
struct backup_job {
  bridge_reply reply;
  std::optional<std::string> file;
  std::string why;
};

}  // namespace

kj::Promise<void> service::snapshot(connection_context& conn, SnapshotContext context) {
  if (auto d = check_root(conn, "snapshot", ""))
    return refuse_access(context, d->unauthenticated, d->message);
  if (*backup_busy_) {
    context.getResults().initResult().initError().setBusy();
    return kj::READY_NOW;
  }
  *backup_busy_ = true;
  // Freed on every path that does not hand the slot to a stream, a call the
  // caller cancels included.
  auto busy = backup_busy_;
  auto handed = std::make_shared<bool>(false);
  auto free_slot = kj::defer([busy, handed] {
    if (!*handed)
      *busy = false;
  });
  auto [answer, done] = handoff<bridge_reply>();
  bridge_.read(backup::backup_query(), std::move(done), opts_.backup_timeout,
               opts_.forward_backups);
  auto guard =
    timer_.afterDelay(to_kj(opts_.backup_timeout + std::chrono::milliseconds(500))).then([] {
      return unavailable("the node's consensus layer did not answer");
    });
  auto job = std::make_shared<backup_job>();
  auto made = answer
                .catch_([](kj::Exception&&) {
                  return unavailable("the node's consensus layer is shutting down");
                })
                .exclusiveJoin(kj::mv(guard))
                .then([this, job](bridge_reply r) -> kj::Promise<bool> {
                  job->reply = std::move(r);
                  if (job->reply.st != bridge_reply::status::ok || job->reply.result.empty())
                    return false;
                  auto [signal, finished] = handoff<bool>();
                  std::thread{[job, id = opts_.cluster_id, finished = std::move(finished)] {
                    job->file = backup::make_backup_file(id, job->reply.result, job->why);
                    std::string{}.swap(job->reply.result);
                    finished(true);
                  }}.detach();
                  return kj::mv(signal);
                });
  return track(made
                 .then([this, context, busy, handed, job](bool) mutable {
                   auto out = context.getResults().initResult();
                   auto& r = job->reply;
                   if (r.st != bridge_reply::status::ok) {
                     accepted(r, opts_, [&] { return out.initError(); });
                     return;
                   }
                   if (!job->file) {
                     out.initError().setUnavailable(
                       job->why.empty() ? "the leader's state machine takes no snapshots"
                                        : job->why);
                     return;
                   }
                   auto header = backup::read_header(*job->file).header;
                   auto info = out.initInfo();
                   info.setTotalBytes(job->file->size());
                   info.setAppliedIndex(header.applied_index);
                   info.setRevision(header.summary.revision);
                   *handed = true;
                   info.setStream(kj::heap<backup_stream>(std::move(*job->file), busy, timer_,
                                                          opts_.backup_stall_timeout,
                                                          opts_.backup_chunk_bytes));
                 })
                 .attach(kj::mv(free_slot)));
}

}  // namespace ballot::gateway
