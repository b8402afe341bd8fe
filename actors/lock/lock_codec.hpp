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
///     open_session  = 0x11 now ttl_ms
///     keep_alive    = 0x12 now session
///     close_session = 0x13 now session
///     tick          = 0x14 now
///     leader_change = 0x15 now grace_ms
///     acquire       = 0x16 now session name mode:u8 wait:u8 delay_ms
///     release       = 0x17 now session name
///     cancel_wait   = 0x18 now session name
///     put_key       = 0x19 now key value session
///     delete_key    = 0x1a now key
///     keep_alive_many = 0x1b now count (session has_cred:u8 [user secret])*
///     check_token   = 0x51 name token          (queries)
///     events_since  = 0x52 prefix revision
///     lock_info     = 0x53 name
///     get_key       = 0x54 key
///
/// (times, sessions, tokens and revisions are u64). Commands and queries have
/// separate tag ranges so a query sent as a command is refused, not misread;
/// both stay clear of the key/value codec's tags (1..4), so one service
/// machine tells them apart by the first byte (`is_lock_command`).
/// A result is `code:u8 session deadline token revision value grants expired
/// events holders waiters message [kept]`, each list a u32 count and its
/// items; `kept` (`session code:u8 deadline message` each) is written only
/// when not empty, so other results read as they always did.
///
/// Decoding never throws and never allocates more than the input's size; a
/// byte string is either a valid message or an error naming field and offset.
namespace ballot::lock {

std::string encode(const command& cmd);

/// Whether `payload` starts with a lock command's tag (0x11..0x1b).
bool is_lock_command(std::string_view payload);

/// Whether `request` starts with a lock query's tag (0x51..0x54).
bool is_lock_query(std::string_view request);

/// Overwrites the `now` of an encoded lock command with `now` (every command
/// has it right after its tag): the leader stamps its clock into each command
/// it proposes. False, and nothing changed, if `payload` is not one.
bool stamp(std::string& payload, time_ms now);

/// The bytes of a `keep_alive_many` before its sessions (tag, now, count),
/// and those each session adds: what a gateway sums to cut a batch to a size.
constexpr std::size_t keep_alive_many_head_bytes = 1 + 8 + 4;
std::size_t keep_alive_many_entry_bytes(const keep_alive& k);

std::string encode(const query& q);

std::string encode(const result& res);

bool decode(std::string_view bytes, command& out, std::string& error);

bool decode(std::string_view bytes, query& out, std::string& error);

bool decode(std::string_view bytes, result& out, std::string& error);

}  // namespace ballot::lock
