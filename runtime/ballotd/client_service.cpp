#include "runtime/ballotd/client_service.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>

#include <exception>

#include "caf/actor.hpp"

#include "runtime/gateway/gateway.hpp"
#include "runtime/tls/pem_file.hpp"

namespace ballot::ballotd {

caf::actor replica_directory::find(std::uint32_t id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = map_.find(id);
  return it == map_.end() ? caf::actor{} : it->second;
}

client_service::client_service() = default;

client_service::~client_service() {
  stop();
}

namespace {

/// Every connection is a descriptor (plus the log's and the peers'): raise
/// the soft limit toward what the connection cap needs, up to the hard one.
void raise_descriptor_limit(std::size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted)
    return;
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(wanted));
  setrlimit(RLIMIT_NOFILE, &lim);
}

/// Reads the client TLS files of `o` into `out`; throws std::invalid_argument
/// naming the flag and the file that is unusable.
void load_tls(const options& o, gateway::options::tls_options& out) {
  if (o.client_cert.empty())
    return;
  auto read = [](const char* flag, const std::string& path, tls::pem_kind kind) {
    try {
      return tls::read_pem_file(path, kind);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string{flag} + ": " + e.what());
    }
  };
  out.cert_pem = read("--client-cert", o.client_cert, tls::pem_kind::certificate);
  out.key_pem = read("--client-key", o.client_key, tls::pem_kind::private_key);
  if (auto problem = tls::keypair_problem(out.cert_pem, out.key_pem); !problem.empty())
    throw std::invalid_argument("--client-key " + o.client_key + " and --client-cert " +
                                o.client_cert + ": " + problem);
  if (!o.client_cacert.empty())
    out.client_ca_pem = read("--client-cacert", o.client_cacert, tls::pem_kind::certificate);
  out.client_cert_auth = o.client_cert_auth;
}

}  // namespace

std::optional<std::string> client_service::check_tls(const options& opts) {
  gateway::options::tls_options ignored;
  try {
    load_tls(opts, ignored);
  } catch (const std::invalid_argument& e) {
    return std::string{e.what()};
  }
  return std::nullopt;
}

std::optional<std::string> client_service::open_audit(const options& opts) {
  if (opts.audit_log.empty())
    return std::nullopt;
  try {
    audit_ = std::make_shared<gateway::audit_log>(opts.audit_log);
  } catch (const std::exception& e) {
    return "--audit-log " + opts.audit_log + ": " + e.what();
  }
  return std::nullopt;
}

std::optional<std::string> client_service::start(
  caf::actor_system& sys, const options& opts, std::uint32_t self,
  std::shared_ptr<replica_directory> dir, std::shared_ptr<gateway::change_feed> feed,
  std::shared_ptr<gateway::gateway_metrics> metrics) {
  gateway::options gw;
  gw.host = opts.client.host;
  gw.port = opts.client.port;
  gw.self = self;
  gw.feed = std::move(feed);
  gw.audit = audit_;
  gw.metrics = std::move(metrics);
  if (opts.embedded) {
    gw.members = {1, 2, 3};
  } else {
    for (auto& [id, where] : opts.peers)
      gw.members.push_back(id);
  }
  gw.client_endpoints[self] = opts.client.to_string();
  if (!cluster_id.empty())
    gw.cluster_id = cluster_id;
  gw.roster = roster;
  if (!opts.embedded) {
    gw.max_forward_bytes = 64u << 10;
    gw.forward_backups = false;
  }
  gw.request_timeout = std::chrono::milliseconds(opts.request_timeout_ms);
  // BALLOT_GATEWAY_COALESCE_KEEPALIVES=0: one log command per keep-alive,
  // to measure what coalescing saves (bench/README).
  if (const char* env = std::getenv("BALLOT_GATEWAY_COALESCE_KEEPALIVES"); env && *env == '0')
    gw.coalesce_keep_alives = false;
  gw.max_connections = static_cast<std::size_t>(opts.max_connections);
  gw.max_connections_per_address = static_cast<std::size_t>(opts.max_connections_per_address);
  raise_descriptor_limit(gw.max_connections + 256);
  try {
    load_tls(opts, gw.tls);
    server_ = gateway::start(sys, gw, [dir](paxos::node_id id) { return dir->find(id); });
  } catch (const std::exception& e) {
    return std::string{e.what()};
  }
  return std::nullopt;
}

void client_service::stop() {
  if (server_)
    server_->stop();
  server_.reset();
}

std::string client_service::bound() const {
  return server_ ? server_->endpoint() : std::string{};
}

}  // namespace ballot::ballotd
