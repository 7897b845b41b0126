// The wire form of a stored event, assembled from stored bytes without re-parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse {

/// Appends `{"position":P,"type":T,"data":D,"timestamp":TS}` as the original server
/// writes it. `data` is stored JSON, copied verbatim; `stored_ts` is converted from its
/// stored text form to RFC 3339 (text in no known form reads back as Go's zero time,
/// as the original's driver does).
void append_event_json(std::string& out, int64_t position, std::string_view type,
                       std::string_view data, std::string_view stored_ts);

/// Appends the decimal form of `v`.
void append_int(std::string& out, int64_t v);

} // namespace ebuse
