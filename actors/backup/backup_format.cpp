#include "actors/backup/backup_format.hpp"

#include <cstring>

#include "actors/backup/sha256.hpp"
#include "actors/kv/byte_codec.hpp"

namespace ballot::backup {

namespace {

using kv::detail::reader;
using kv::detail::writer;

constexpr std::string_view query_text =
  "\xB0"
  "ballot-backup";

void put_le(std::string& out, std::size_t at, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le(std::string_view in, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return v;
}

// Offsets of the header's fields.
constexpr std::size_t at_version = 8, at_header_bytes = 12, at_cluster = 16, at_applied = 48,
                      at_revision = 56, at_keys = 64, at_sessions = 72, at_members = 80,
                      at_clients = 84, at_machine_bytes = 88, at_clients_bytes = 96,
                      at_members_bytes = 104, at_body_bytes = 112;

std::string encode_clients(const std::vector<paxos::client_record>& clients) {
  writer w;
  for (auto& c : clients) {
    w.integer(c.client);
    w.integer(c.forgotten);
    w.integer(c.last_active_ms);
    w.integer(static_cast<std::uint32_t>(c.results.size()));
    for (std::size_t i = 0; i < c.results.size(); ++i) {
      w.integer(c.results[i].first);
      w.string(c.results[i].second);
      w.integer(i < c.fingerprints.size() ? c.fingerprints[i] : std::uint64_t{0});
    }
  }
  return w.take();
}

bool decode_clients(std::string_view bytes, std::uint32_t count,
                    std::vector<paxos::client_record>& out, std::string& why) {
  reader r{bytes};
  bool ok = true;
  for (std::uint32_t n = 0; ok && n < count; ++n) {
    paxos::client_record c;
    std::uint32_t results = 0;
    ok = r.integer(c.client, "client") && r.integer(c.forgotten, "forgotten") &&
         r.integer(c.last_active_ms, "last_active") && r.integer(results, "results");
    for (std::uint32_t i = 0; ok && i < results; ++i) {
      std::uint64_t seq = 0, fingerprint = 0;
      std::string result;
      ok = r.integer(seq, "seq") && r.string(result, "result") &&
           r.integer(fingerprint, "fingerprint");
      c.results.emplace_back(seq, std::move(result));
      c.fingerprints.push_back(fingerprint);
    }
    out.push_back(std::move(c));
  }
  if (!ok || !r.finish()) {
    why = "the dedup table does not decode: " + r.error();
    return false;
  }
  return true;
}

}  // namespace

std::string backup_query() {
  return std::string{query_text};
}

bool is_backup_query(std::string_view query) {
  return query == query_text;
}

std::string encode_backup_state(const paxos::snapshot& snap, const state_summary& summary) {
  writer w;
  w.integer(snap.last);
  w.integer(summary.revision);
  w.integer(summary.keys);
  w.integer(summary.sessions);
  w.integer(summary.members);
  w.integer(static_cast<std::uint32_t>(snap.clients.size()));
  w.string(snap.machine.bytes());
  w.string(encode_clients(snap.clients.records()));
  w.string(snap.members);
  return w.take();
}

std::optional<std::string> make_backup_file(std::string_view cluster_id, std::string_view state,
                                            std::string& why) {
  reader r{state};
  backup_header h;
  // Views into `state`, not copies: a backup of a GiB state would otherwise
  // hold it three times while the file is made.
  std::string_view machine, clients, members;
  bool ok = r.integer(h.applied_index, "applied") && r.integer(h.summary.revision, "revision") &&
            r.integer(h.summary.keys, "keys") && r.integer(h.summary.sessions, "sessions") &&
            r.integer(h.summary.members, "members") && r.integer(h.client_records, "clients") &&
            r.string(machine, "machine") && r.string(clients, "dedup") &&
            r.string(members, "membership") && r.finish();
  if (!ok || cluster_id.size() != 32) {
    why = ok ? "the cluster id is not 32 bytes" : "malformed backup state: " + r.error();
    return std::nullopt;
  }
  std::string out(backup_header_bytes, '\0');
  std::memcpy(out.data(), backup_magic.data(), backup_magic.size());
  put_le(out, at_version, backup_version, 4);
  put_le(out, at_header_bytes, backup_header_bytes, 4);
  std::memcpy(out.data() + at_cluster, cluster_id.data(), 32);
  put_le(out, at_applied, h.applied_index, 8);
  put_le(out, at_revision, h.summary.revision, 8);
  put_le(out, at_keys, h.summary.keys, 8);
  put_le(out, at_sessions, h.summary.sessions, 8);
  put_le(out, at_members, h.summary.members, 4);
  put_le(out, at_clients, h.client_records, 4);
  put_le(out, at_machine_bytes, machine.size(), 8);
  put_le(out, at_clients_bytes, clients.size(), 8);
  put_le(out, at_members_bytes, members.size(), 8);
  put_le(out, at_body_bytes, machine.size() + clients.size() + members.size(), 8);
  out.reserve(out.size() + machine.size() + clients.size() + members.size() + 32);
  out += machine;
  out += clients;
  out += members;
  auto sum = sha256_of(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return out;
}

backup_check read_header(std::string_view file) {
  backup_check c;
  auto fail = [&c](std::uint64_t at, std::string why) {
    c.offset = at;
    c.error = std::move(why);
    return c;
  };
  if (file.size() < backup_header_bytes)
    return fail(file.size(), "truncated: " + std::to_string(file.size()) +
                               " bytes, shorter than the " + std::to_string(backup_header_bytes) +
                               "-byte header");
  if (file.substr(0, backup_magic.size()) != backup_magic)
    return fail(0, "not a Ballot backup (wrong magic)");
  auto& h = c.header;
  h.version = static_cast<std::uint32_t>(get_le(file, at_version, 4));
  if (h.version != backup_version)
    return fail(at_version, "unknown format version " + std::to_string(h.version));
  if (get_le(file, at_header_bytes, 4) != backup_header_bytes)
    return fail(at_header_bytes,
                "unexpected header size " + std::to_string(get_le(file, at_header_bytes, 4)));
  h.cluster_id = std::string{file.substr(at_cluster, 32)};
  h.applied_index = get_le(file, at_applied, 8);
  h.summary.revision = get_le(file, at_revision, 8);
  h.summary.keys = get_le(file, at_keys, 8);
  h.summary.sessions = get_le(file, at_sessions, 8);
  h.summary.members = static_cast<std::uint32_t>(get_le(file, at_members, 4));
  h.client_records = static_cast<std::uint32_t>(get_le(file, at_clients, 4));
  h.machine_bytes = get_le(file, at_machine_bytes, 8);
  h.clients_bytes = get_le(file, at_clients_bytes, 8);
  h.members_bytes = get_le(file, at_members_bytes, 8);
  auto body = get_le(file, at_body_bytes, 8);
  // Each part under 1 TiB, so the sum cannot wrap; a file shorter than
  // the header says is truncated (below), not inconsistent.
  constexpr std::uint64_t max_part = std::uint64_t{1} << 40;
  if (h.machine_bytes > max_part || h.clients_bytes > max_part || h.members_bytes > max_part ||
      body != h.body_bytes())
    return fail(at_machine_bytes, "the header's sizes do not add up");
  c.ok = true;
  return c;
}

backup_check check_backup(std::string_view file) {
  auto c = read_header(file);
  if (!c.ok)
    return c;
  c.ok = false;
  auto fail = [&c](std::uint64_t at, std::string why) {
    c.offset = at;
    c.error = std::move(why);
    return c;
  };
  auto body = c.header.body_bytes();
  auto expected = backup_header_bytes + body + backup_trailer_bytes;
  if (file.size() < expected)
    return fail(file.size(), "truncated: " + std::to_string(file.size()) + " bytes of " +
                               std::to_string(expected));
  if (file.size() > expected)
    return fail(expected,
                std::to_string(file.size() - expected) + " unexpected bytes after the checksum");
  auto covered = backup_header_bytes + body;
  auto sum = sha256_of(file.substr(0, covered));
  if (std::memcmp(sum.data(), file.data() + covered, sum.size()) != 0)
    return fail(covered, "checksum mismatch: the file is damaged");
  c.checksum = std::string{file.substr(covered, 32)};
  c.ok = true;
  return c;
}

std::optional<paxos::snapshot> snapshot_of(std::string_view file, const backup_header& h,
                                           std::string& why) {
  paxos::snapshot snap;
  snap.last = h.applied_index;
  auto at = backup_header_bytes;
  snap.machine = std::string{file.substr(at, h.machine_bytes)};
  at += h.machine_bytes;
  std::vector<paxos::client_record> clients;
  if (!decode_clients(file.substr(at, h.clients_bytes), h.client_records, clients, why))
    return std::nullopt;
  snap.clients = std::move(clients);
  at += h.clients_bytes;
  snap.members = std::string{file.substr(at, h.members_bytes)};
  return snap;
}

}  // namespace ballot::backup
