#include "actors/kv/kv_client.hpp"

#include <utility>

#include "caf/actor.hpp"

#include "actors/kv/command_codec.hpp"
#include "actors/paxos/request_ids.hpp"
#include "actors/replica/group_caller.hpp"
#include "actors/replica/random_id.hpp"

namespace ballot::kv {

namespace {

result unavailable(const std::string& why) {
  return result::error(result_code::unavailable, why);
}

}  // namespace

paxos::command make_command(std::uint64_t client, std::uint64_t seq, const request& req) {
  return paxos::command{client, seq, encode(req)};
}

struct kv_client::impl {
  impl(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
       caf::timespan timeout)
      : caller(sys, std::move(replicas)), ids(client_id), timeout(timeout) {}

  result execute(const request& req) {
    auto deadline = actors::group_caller::clock::now() + timeout;
    actors::group_answer a;
    if (is_write(req)) {
      if (ids.stale())
        ids.renew(actors::random_client_id());
      // One seq per write: the caller retries it with the same one.
      a = caller.propose(make_command(ids.id(), ids.next_seq(), req), deadline);
      if (a.expired) {
        ids.forgotten(ids.id());
        return result::error(result_code::expired, a.error);
      }
    } else {
      a = caller.read(encode(req), deadline);
    }
    if (!a.ok)
      return unavailable(a.error);
    result r;
    std::string error;
    if (!decode(a.result, r, error))
      return result::error(result_code::bad_request, error);
    return r;
  }

  actors::group_caller caller;
  paxos::request_ids ids;
  caf::timespan timeout;
};

kv_client::kv_client(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
                     caf::timespan timeout)
    : impl_(std::make_unique<impl>(sys, std::move(replicas), client_id, timeout)) {}

kv_client::~kv_client() = default;

result kv_client::put(std::string key, std::string value, std::optional<std::uint64_t> if_version) {
  return execute(put_request{std::move(key), std::move(value), if_version});
}

result kv_client::get(std::string key) {
  return execute(get_request{std::move(key)});
}

result kv_client::del(std::string key, std::optional<std::uint64_t> if_version) {
  return execute(del_request{std::move(key), if_version});
}

result kv_client::list(std::string prefix, std::uint32_t limit) {
  return execute(list_request{std::move(prefix), limit});
}

result kv_client::execute(const request& req) {
  return impl_->execute(req);
}

}  // namespace ballot::kv
