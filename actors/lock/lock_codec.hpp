#pragma once

#include <string>
#include <string_view>

#include "actors/lock/command.hpp"
#include "actors/lock/result.hpp"

/// The binary encoding of lock-service commands (Paxos payloads), queries and
/// results, in the key/value codec's style (`kv/byte_codec.hpp`): fixed-width
/// little-endian integers, strings as a u32 length and their bytes, one tag
/// byte first:
///
///     open_session  = 0x01 now ttl_ms
///     keep_alive    = 0x02 now session
///     close_session = 0x03 now session
///     tick          = 0x04 now
///     leader_change = 0x05 now grace_ms
///     acquire       = 0x06 now session name mode:u8 wait:u8 delay_ms
///     release       = 0x07 now session name
///     cancel_wait   = 0x08 now session name
///     put_key       = 0x09 now key value session
///     delete_key    = 0x0a now key
///     check_token   = 0x41 name token          (queries)
///     events_since  = 0x42 prefix revision
///     lock_info     = 0x43 name
///     get_key       = 0x44 key
///
/// (times, sessions, tokens and revisions are u64). Commands and queries have
/// separate tag ranges so a query sent as a command is refused, not misread.
/// A result is `code:u8 session deadline token revision value grants expired
/// events holders waiters message`, each list a u32 count and its items.
///
/// Decoding never throws and never allocates more than the input's size; a
/// byte string is either a valid message or an error naming field and offset.
namespace ballot::lock {

std::string encode(const command& cmd);

std::string encode(const query& q);

std::string encode(const result& res);

bool decode(std::string_view bytes, command& out, std::string& error);

bool decode(std::string_view bytes, query& out, std::string& error);

bool decode(std::string_view bytes, result& out, std::string& error);

}  // namespace ballot::lock
