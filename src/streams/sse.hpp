// Server-sent events framing: data events (text or base64) and control events.
#pragma once

#include <string>
#include <string_view>

#include "streams/offset.hpp"

namespace ebuse::streams {

/// Appends standard base64 (RFC 4648, padded) of `in` to `out`.
void append_base64(std::string_view in, std::string& out);

/// Appends `event: data` carrying `payload`. Text is split into one `data:` line per
/// line, CR, LF and CRLF each ending a line, so that no payload can end the event or
/// inject one of its own; `base64` sends the bytes encoded on one line instead.
void append_data_event(std::string_view payload, bool base64, std::string& out);

/// Appends `event: control` with `streamNextOffset`; while the stream is open also
/// `streamCursor` and, when caught up, `upToDate`; once the reader reached the end of
/// a closed stream `streamClosed` with `upToDate` (and no cursor: it must not
/// reconnect).
void append_control_event(offset next, std::string_view cursor, bool up_to_date,
                          bool closed, std::string& out);

} // namespace ebuse::streams
