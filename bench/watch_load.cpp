#include "bench/watch_load.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace ballot::bench {

watch_load::watch_load(const client::options& base, std::size_t watchers,
                       std::size_t connections, const std::string& prefix,
                       std::chrono::seconds wait)
    : per_watch_(new std::atomic<std::uint64_t>[watchers]) {
  connections = std::max<std::size_t>(1, std::min(connections, watchers));
  for (std::size_t c = 0; c < connections; ++c) {
    auto o = base;
    std::rotate(o.endpoints.begin(),
                o.endpoints.begin() + static_cast<std::ptrdiff_t>(c % o.endpoints.size()),
                o.endpoints.end());
    conns_.push_back(std::make_unique<client::client>(o));
  }
  for (std::size_t w = 0; w < watchers; ++w) {
    per_watch_[w] = 0;
    auto* mine = &per_watch_[w];
    watches_.push_back(conns_[w % connections]->watch(
      prefix, true, std::nullopt,
      [this, mine](std::vector<kv::event> evs, std::uint64_t) {
        mine->fetch_add(evs.size(), std::memory_order_relaxed);
        events_.fetch_add(evs.size(), std::memory_order_relaxed);
      },
      [this](lock::result) { ended_.fetch_add(1); }));
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (auto last = std::chrono::steady_clock::now();
       started() < watchers && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - last >= std::chrono::seconds(1)) {
      last = std::chrono::steady_clock::now();
      std::fprintf(stderr, "ballot-bench: %zu of %zu watches started\n", started(), watchers);
    }
  }
}

watch_load::~watch_load() {
  watches_.clear();  // each stops its watch
  conns_.clear();    // joins the I/O threads
}

std::size_t watch_load::started() const {
  return static_cast<std::size_t>(
    std::count_if(watches_.begin(), watches_.end(), [](auto& w) { return w->started(); }));
}

std::uint64_t watch_load::min_events() const {
  std::uint64_t least = UINT64_MAX;
  for (std::size_t w = 0; w < watches_.size(); ++w)
    least = std::min(least, per_watch_[w].load());
  return watches_.empty() ? 0 : least;
}

}  // namespace ballot::bench
