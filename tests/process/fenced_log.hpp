#pragma once

// The fenced counter of the fencing tests: lock holders append the token of
// each write they make to `<file>.log`, in the order the writes happened.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace ballot::testing {

/// Every write's token is above the one before (no stale token got through),
/// there are `count` writes, and the last one's token is `last_token`.
inline void expect_tokens_increase(const std::string& file, std::uint64_t count,
                                   std::uint64_t last_token) {
  std::ifstream log{file + ".log"};
  std::uint64_t prev = 0, token = 0, writes = 0;
  while (log >> token) {
    EXPECT_GT(token, prev) << "write " << writes << " used a stale token";
    prev = token;
    ++writes;
  }
  EXPECT_EQ(writes, count);
  EXPECT_EQ(prev, last_token);
}

}  // namespace ballot::testing
