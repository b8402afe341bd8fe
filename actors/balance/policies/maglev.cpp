#include "actors/balance/policies/maglev.hpp"

#include <algorithm>
#include <limits>

#include "actors/balance/policies/backend_set.hpp"
#include "actors/balance/policies/mix.hpp"

namespace ballot::balance {

namespace {

constexpr std::uint32_t free_entry = std::numeric_limits<std::uint32_t>::max();

bool is_prime(std::uint32_t n) {
  if (n < 2)
    return false;
  for (std::uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0)
      return false;
  return true;
}

/// How many entries to probe before checking that some backend is available
/// at all (so a pick with none available costs O(n), not O(M)).
constexpr std::size_t probes_before_scan = 16;

}  // namespace

std::uint32_t maglev_policy::next_prime(std::uint32_t n) {
  n = std::max<std::uint32_t>(n, 2);
  while (!is_prime(n))
    ++n;
  return n;
}

void maglev_policy::update(const std::vector<backend>& backends) {
  backends_ = normalize(backends);
  entries_.clear();
  auto n = backends_.size();
  if (n == 0)
    return;
  std::uint64_t m =
    next_prime(std::max<std::uint32_t>(requested_size_, static_cast<std::uint32_t>(n)));

  // Each backend's permutation, walked lazily: position = offset, then
  // += skip (mod M) per step. Two independent hashes of the id, as in the
  // paper (which hashes the backend's name with two different functions).
  std::vector<std::uint64_t> position(n);
  std::vector<std::uint64_t> skip(n);
  std::uint64_t max_weight = 0;
  for (std::size_t i = 0; i < n; ++i) {
    position[i] = mix64(backends_[i].id, 0x4D41474C45564F46ULL) % m;
    skip[i] = mix64(backends_[i].id, 0x534B495050494E47ULL) % (m - 1) + 1;
    max_weight = std::max<std::uint64_t>(max_weight, backends_[i].weight);
  }
  // credit[i] >= max_weight buys a turn. Starting at max - weight gives every
  // backend its first turn in round one; then weight / max turns per round.
  std::vector<std::uint64_t> credit(n);
  for (std::size_t i = 0; i < n; ++i)
    credit[i] = max_weight - backends_[i].weight;

  entries_.assign(m, free_entry);
  std::uint64_t filled = 0;
  while (filled < m) {
    for (std::size_t i = 0; i < n && filled < m; ++i) {
      credit[i] += backends_[i].weight;
      while (credit[i] >= max_weight && filled < m) {
        credit[i] -= max_weight;
        // The next entry of i's permutation that nobody has claimed yet.
        while (entries_[position[i]] != free_entry) {
          position[i] += skip[i];
          if (position[i] >= m)
            position[i] -= m;
        }
        entries_[position[i]] = static_cast<std::uint32_t>(i);
        ++filled;
      }
    }
  }
}

std::optional<backend_id> maglev_policy::pick(std::uint64_t key, const load_view& load) {
  auto m = entries_.size();
  if (m == 0)
    return std::nullopt;
  auto i = static_cast<std::size_t>(key % m);
  for (std::size_t probe = 0; probe < m; ++probe, i = i + 1 == m ? 0 : i + 1) {
    if (probe == probes_before_scan &&
        std::none_of(backends_.begin(), backends_.end(),
                     [&](const backend& b) { return load.available(b.id); }))
      return std::nullopt;
    auto id = backends_[entries_[i]].id;
    if (load.available(id))
      return id;
  }
  return std::nullopt;  // unreachable: every backend owns at least one entry
}

std::vector<backend_id> maglev_policy::table() const {
  std::vector<backend_id> out;
  out.reserve(entries_.size());
  for (auto e : entries_)
    out.push_back(backends_[e].id);
  return out;
}

std::optional<backend_id> maglev_policy::home(std::uint64_t key) const {
  if (entries_.empty())
    return std::nullopt;
  return backends_[entries_[key % entries_.size()]].id;
}

}  // namespace ballot::balance
