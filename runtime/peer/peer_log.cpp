#include "runtime/peer/peer_log.hpp"
#include "runtime/log/thread_name.hpp"

#include <utility>

namespace ballot::peer {

peer_log::peer_log(std::function<void(const std::string&)> sink, std::function<std::string()> drops)
    : sink_(std::move(sink)), drops_(std::move(drops)) {}

peer_log::~peer_log() {
  stop();
}

void peer_log::log(const std::string& line, std::size_t topic, logging::level lvl,
                   std::vector<logging::field> fields) {
  if (!sink_ && !logging::enabled(lvl))
    return;
  std::unique_lock<std::mutex> guard{mtx_};
  auto& w = windows_[topic];
  auto now = std::chrono::steady_clock::now();
  std::string preface;
  if (now - w.start > std::chrono::seconds(10)) {
    if (w.suppressed > 0)
      preface = "peer: " + std::to_string(w.suppressed) +
                " similar line(s) left out; drops so far: " + drops_();
    w.start = now, w.lines = 0, w.suppressed = 0;
  }
  // Link up/down lines are few per member unless links flap: 30 of them.
  if (++w.lines > (topic == link_topic ? 30 : 5)) {
    ++w.suppressed;
    return;
  }
  auto queue = [this](logging::record r) {
    if (r.msg.empty())
      return;
    if (pending_.size() >= max_pending)
      ++lost_;
    else
      pending_.push_back(std::move(r));
  };
  auto when = std::chrono::system_clock::now();
  queue(logging::record{when, logging::level::info, preface, {{"event", "peer_lines_left_out"}}});
  if (fields.empty())
    fields.emplace_back("event", topic == link_topic ? "peer" : "peer_drop");
  queue(logging::record{when, topic == link_topic ? lvl : logging::level::warn, line,
                        std::move(fields)});
  if (!writer_.joinable() && !done_)
    writer_ = std::thread{[this] {
      logging::name_this_thread("ballot-peerlog");
      write_lines();
    }};
  guard.unlock();
  cv_.notify_one();
}

void peer_log::write_lines() {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    cv_.wait(guard, [this] { return done_ || !pending_.empty(); });
    if (pending_.empty())
      return;
    auto line = std::move(pending_.front());
    pending_.pop_front();
    auto lost = std::exchange(lost_, 0);
    guard.unlock();
    if (lost > 0)
      emit(logging::record{
        {},
        logging::level::warn,
        "peer: " + std::to_string(lost) + " log line(s) lost: the log is not keeping up",
        {{"event", "log_lines_lost"}, {"lines", lost}}});
    emit(std::move(line));
    guard.lock();
  }
}

void peer_log::emit(logging::record r) {
  if (sink_)
    sink_(r.msg);
  else
    logging::write(std::move(r));
}

void peer_log::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    done_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable())
    writer_.join();
}

}  // namespace ballot::peer
