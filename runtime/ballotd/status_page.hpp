#pragma once

#include <string>

namespace ballot::ballotd {

/// The status page served at `/` of the metrics port: one HTML document with
/// its style and script inline (no build step, nothing fetched from
/// elsewhere). The script reads `/ui/state` every two seconds and renders
/// members, leader, indexes and lag, sessions, locks and recent leadership
/// changes with textContent only, so no lock name can inject markup.
const std::string& status_page_html();

}  // namespace ballot::ballotd
