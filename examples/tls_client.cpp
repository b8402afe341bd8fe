// The C++ client library over TLS: connects to a running cluster whose nodes
// serve their client endpoints with --client-cert (and, if they require it,
// --client-cert-auth), writes a key, reads it back, and takes and releases a
// lock in a session. Exits 0 if every step worked.
//
//   tls_client_example --endpoints localhost:7401,localhost:7402,localhost:7403
//                      --cacert tls/ca.pem --cert tls/alice.pem --key tls/alice.key
//
// (README, "Securing a cluster", makes these files and starts such nodes.)

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>

#include "runtime/client/client.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  ballot::client::options opts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--endpoints") {
      opts.endpoints.clear();
      for (std::size_t at = 0; at <= value.size();) {
        auto comma = value.find(',', at);
        opts.endpoints.push_back(value.substr(at, comma - at));
        if (comma == std::string::npos)
          break;
        at = comma + 1;
      }
    } else if (flag == "--cacert") {
      opts.tls.ca_file = value;  // turns TLS on: only this CA is trusted
    } else if (flag == "--cert") {
      opts.tls.cert_file = value;  // for nodes with --client-cert-auth
    } else if (flag == "--key") {
      opts.tls.key_file = value;
    } else if (flag == "--tls-server-name") {
      opts.tls.server_name = value;  // when the endpoints are IP addresses
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  try {
    ballot::client::client c{opts};  // throws naming an unusable TLS file
    auto put = c.put("example/tls", "over TLS");
    std::cout << "put -> " << ballot::kv::to_string(put.code) << " " << put.message << "\n";
    auto got = c.get("example/tls");
    std::cout << "get -> " << ballot::kv::to_string(got.code) << " '" << got.value << "'\n";
    auto session = c.open_session(10s);
    if (!put.ok() || !got.ok() || !session.ok()) {
      std::cerr << "failed: " << session.message << "\n";
      return 1;
    }
    auto held = c.acquire(session.session, "example-lock");
    std::cout << "acquire -> " << (held.ok() ? "ok" : held.message) << " token " << held.token
              << "\n";
    auto released = c.release(session.session, "example-lock");
    c.close_session(session.session);
    return held.ok() && released.ok() ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
