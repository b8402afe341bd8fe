#pragma once

#include <gtest/gtest.h>

#include <string>

#include "actors/lock/lock_codec.hpp"
#include "actors/lock/lock_service.hpp"

/// Drives a lock_service through the encoded paths, as a replica does.
namespace ballot::lock::test {

inline result run(lock_service& svc, const command& cmd) {
  result r;
  std::string error;
  EXPECT_TRUE(decode(svc.apply(encode(cmd)), r, error)) << error;
  return r;
}

inline result ask(const lock_service& svc, const query& q) {
  result r;
  std::string error;
  EXPECT_TRUE(decode(svc.query(encode(q)), r, error)) << error;
  return r;
}

/// Opens a session with a long TTL at `now`.
inline session_id open(lock_service& svc, time_ms now, time_ms ttl = 10'000) {
  auto r = run(svc, open_session{now, ttl});
  EXPECT_TRUE(r.ok()) << to_string(r.code) << " " << r.message;
  return r.session;
}

inline result take(lock_service& svc, time_ms now, session_id s, const std::string& name,
                   lock_mode mode = lock_mode::exclusive, bool wait = true, time_ms delay = 0) {
  return run(svc, acquire{now, s, name, mode, wait, delay});
}

inline bool token_valid(const lock_service& svc, const std::string& name, std::uint64_t token) {
  return ask(svc, check_token{name, token}).ok();
}

}  // namespace ballot::lock::test
