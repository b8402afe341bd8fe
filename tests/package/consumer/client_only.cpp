// This consumer links only ballot::client: it parses an endpoint list and
// finds no cluster there within a short timeout (exit 0 when it says so).
#include <chrono>
#include <cstdio>

#include "runtime/client/client.hpp"

int main() {
  ballot::client::options o;
  o.endpoints = {"127.0.0.1:1"};
  o.timeout = std::chrono::milliseconds(300);
  ballot::client::client c{o};
  auto r = c.get("nothing-here");
  std::printf("client_only: get ok=%d\n", r.ok());
  return r.ok() ? 1 : 0;
}
