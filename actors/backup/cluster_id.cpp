#include "actors/backup/cluster_id.hpp"

#include "actors/backup/sha256.hpp"

namespace ballot::backup {

namespace {

std::string bytes_of(const digest& d) {
  return std::string{reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace

std::string derive_cluster_id(const std::string& token, const std::set<std::uint32_t>& members) {
  sha256 h;
  // Each part is length-prefixed, so no two inputs serialize alike.
  auto part = [&h](const std::string& s) {
    auto n = std::to_string(s.size()) + ":";
    h.update(n);
    h.update(s);
  };
  part("ballot cluster id v1");
  part(token);
  for (auto id : members)  // a std::set: sorted
    part(std::to_string(id));
  return bytes_of(h.finish());
}

std::string restored_cluster_id(const std::string& old_id, const std::string& backup_checksum) {
  sha256 h;
  h.update(std::string_view{"ballot restored cluster v1:"});
  h.update(old_id);
  h.update(backup_checksum);
  return bytes_of(h.finish());
}

std::optional<std::string> parse_cluster_id(const std::string& hex, std::string& why) {
  std::string bytes;
  if (hex.size() != 2 * cluster_id_bytes || !from_hex(hex, bytes)) {
    why = "expected " + std::to_string(2 * cluster_id_bytes) + " hex digits";
    return std::nullopt;
  }
  return bytes;
}

}  // namespace ballot::backup
