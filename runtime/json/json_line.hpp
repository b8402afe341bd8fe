#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

/// The one rule for putting bytes into JSON, used by every JSON line Ballot
/// writes: `ballotctl --json`, ballotd's /status and status page, JSON log
/// lines. Keys, values, lock and user names are arbitrary bytes from clients;
/// nlohmann's dump throws on (or replaces) bytes that are not UTF-8.
namespace ballot::json {

/// A JSON value whose objects keep their keys in insertion order, so each
/// line has the documented key order.
using value = nlohmann::ordered_json;

/// `bytes` as valid UTF-8 for a string value: valid UTF-8 sequences stay as
/// they are; every other byte N becomes the code point U+00NN (its Latin-1
/// reading), so nothing throws and nothing collapses into U+FFFD.
std::string text(std::string_view bytes);

/// `v` as one line, without the newline: compact, and ASCII only: control
/// characters and every code point past U+007E as JSON escapes (\n, \u0001,
/// \u00ff, \u00e9, \u2028, surrogate pairs), so a key with a newline, a C1
/// control or a line separator cannot end or forge the line. A byte from a
/// string not passed through text() comes out as \ufffd instead of throwing.
std::string line(const value& v);

}  // namespace ballot::json
