#include "actors/balance/errors.hpp"

namespace ballot::balance {

const char* to_string(errc code) {
  switch (code) {
    case errc::overloaded:
      return "overloaded";
    case errc::no_backends:
      return "no_backends";
    case errc::timeout:
      return "timeout";
    case errc::worker_error:
      return "worker_error";
    case errc::worker_down:
      return "worker_down";
    case errc::retry_budget_exhausted:
      return "retry_budget_exhausted";
    case errc::shutdown:
      return "shutdown";
  }
  return "unknown";
}

std::string to_string(const failure& f) {
  return std::string{to_string(f.code)} + ": " + f.message;
}

}  // namespace ballot::balance
