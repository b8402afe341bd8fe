#pragma once

#include <string>
#include <string_view>

#include "actors/kv/request.hpp"
#include "actors/kv/result.hpp"

/// The binary encoding of key/value requests (Paxos command payloads and read
/// queries) and of their results (the state machine's answers).
///
/// Every integer is little-endian and fixed-width; a string is a u32 length
/// followed by its bytes. A request is one tag byte then its fields:
///
///     put  = 0x01 key value has_if:u8 [if_version:u64] [checked_user]
///     get  = 0x02 key
///     del  = 0x03 key has_if:u8 [if_version:u64] [checked_user]
///     list = 0x04 prefix limit:u32 [start_after with_values:u8 max_bytes:u64]
///
/// A result is `code:u8 version:u64 value n:u32 (key version:u64)*n
/// truncated:u8 message [n:u32 (entry value)*n]`. The bracketed tails are
/// written only when they say something (a paging or valued listing; entries
/// with values), so what older nodes wrote decodes unchanged and what they
/// did not know about is never written for them. Decoding never throws and
/// never allocates more than
/// the input's size: lengths are checked against the bytes that remain, and
/// trailing bytes are an error, so any byte string is either a valid message
/// or a clear error.
namespace ballot::kv {

std::string encode(const request& req);

/// A put's encoding from views of its parts, the same bytes as
/// `encode(put_request{...})`: the gateway encodes a value straight from the
/// client's message, one copy instead of two (each a pass over a megabyte).
std::string encode_put(std::string_view key, std::string_view value,
                       const std::optional<std::uint64_t>& if_version,
                       const std::optional<std::string>& checked_user);

std::string encode(const result& res);

/// Decodes a request. On failure returns false and sets `error` to a message
/// that names the offending field and byte offset.
bool decode(std::string_view bytes, request& out, std::string& error);

/// Decodes a result; same error convention as for requests.
bool decode(std::string_view bytes, result& out, std::string& error);

}  // namespace ballot::kv
