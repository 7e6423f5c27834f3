// Text for a terminal from bytes cnmkit did not write (host files, tool output, paths): control
// characters (escape sequences, BEL, CR, ...), C1 controls, bidirectional overrides and
// invalid UTF-8 are shown escaped ("\x1b", "\u202e") instead of reaching the terminal raw.
// Every text output of cnmctl and every log line goes through it; JSON output is safe already
// (nlohmann escapes controls and replaces invalid UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cnm {

// keep_newlines: '\n' passes (multi-line text such as a report); else it is escaped too.
// '\t' always passes.
std::string printable(std::string_view text, bool keep_newlines = true);

// text as valid UTF-8 (each invalid byte becomes U+FFFD, as JSON output replaces it) of at most
// max_bytes bytes: when longer, cut at a character boundary and ended with "\u2026" (the
// ellipsis, 3 bytes). For text from host files that goes into a report with a length bound.
std::string bounded_utf8(std::string_view text, std::size_t max_bytes);

// Length of the valid UTF-8 sequence of two to four bytes at s[i] (its code point in cp); 0 for
// ASCII and for an invalid one (overlong forms, surrogates, past U+10FFFF, cut short).
std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp);

}  // namespace cnm
