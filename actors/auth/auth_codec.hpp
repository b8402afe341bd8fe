#pragma once

#include <string>
#include <string_view>

#include "actors/auth/auth_store.hpp"

/// The binary encoding of user and role commands (Paxos payloads), the one
/// auth query and their results, in the key/value codec's style (fixed-width
/// little-endian integers, strings as a u32 length and their bytes, one tag
/// byte first):
///
///     user_add    = 0x31 name hash        role_add    = 0x36 name
///     user_delete = 0x32 name             role_delete = 0x37 name
///     user_passwd = 0x33 name hash        role_grant  = 0x38 role kind:u8 prefix
///     user_grant  = 0x34 user role        role_revoke = 0x39 role kind:u8 prefix
///     user_revoke = 0x35 user role        auth_enable = 0x3a, auth_disable = 0x3b
///     auth_state  = 0x61                  (the query: the whole store)
///
/// The tags stay clear of the key/value (1..4) and lock (0x11.., 0x51..)
/// codecs, so the service machine tells them apart by the first byte.
/// A result is `code:u8 message [store]`, the store (as `auth_store::save`
/// writes it) only in the answer to `auth_state`.
namespace ballot::auth {

std::string encode(const command& cmd);
bool decode(std::string_view bytes, command& out, std::string& error);

bool is_auth_command(std::string_view payload);
bool is_auth_query(std::string_view request);

/// The query for the whole store (users with their password hashes, roles,
/// enabled). Only gateways ask it; it never reaches a client.
std::string encode_state_query();

std::string encode(const result& r);
/// The answer to `encode_state_query`.
std::string encode_state(const auth_store& store);

/// Decodes a result; if it carries a store, loads it into `store` (which must
/// be empty) and sets `has_store`.
bool decode(std::string_view bytes, result& out, auth_store* store, bool& has_store,
            std::string& error);

}  // namespace ballot::auth
