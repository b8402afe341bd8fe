#include "runtime/gateway/audit_log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace ballot::gateway {

audit_log::audit_log(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
  if (file_ == nullptr)
    throw std::runtime_error("cannot open the audit log " + path + ": " + std::strerror(errno));
}

audit_log::~audit_log() {
  if (file_ != nullptr)
    std::fclose(file_);
}

std::string audit_log::field(const std::string& value) {
  if (value.empty())
    return "-";
  bool plain = true;
  for (unsigned char c : value)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=')
      plain = false;
  if (plain)
    return value;
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

void audit_log::record(const std::string& result, const std::string& user, const std::string& from,
                       const std::string& op, const std::string& target, const std::string& why) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  // Targets are keys (up to 4 KiB): the first 256 bytes name them well enough.
  auto line = std::string{stamp} + "." + std::to_string(1000 + ms).substr(1) +
              "Z result=" + field(result) + " user=" + field(user) + " from=" + field(from) +
              " op=" + field(op) + " target=" + field(target.substr(0, 256));
  if (!why.empty())
    line += " why=" + field(why);
  line += '\n';
  std::lock_guard<std::mutex> guard{mutex_};
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
}

}  // namespace ballot::gateway
