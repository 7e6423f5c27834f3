// Text for a terminal from bytes cnmkit did not write (host files, tool output, paths): control
// characters (escape sequences, BEL, CR, ...), C1 controls, bidirectional overrides and
// invalid UTF-8 are shown escaped ("\x1b", "\u202e") instead of reaching the terminal raw.
// Every text output of cnmctl and every log line goes through it; JSON output is safe already
// (nlohmann escapes controls and replaces invalid UTF-8).
#pragma once

#include <string>
#include <string_view>

namespace cnm {

// keep_newlines: '\n' passes (multi-line text such as a report); else it is escaped too.
// '\t' always passes.
std::string printable(std::string_view text, bool keep_newlines = true);

}  // namespace cnm
