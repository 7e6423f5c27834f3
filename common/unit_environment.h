// An `Environment=` setting of a systemd unit as systemd reads it (systemd.exec; 248 and later,
// and every version from 233 where a value has no control character: config_parse_environ in
// src/core/load-fragment.c, later src/shared/conf-parser.c). The value is split into words by
// extract_first_word with C unescaping and unquoting, each word has its specifiers expanded,
// and each word that is a valid assignment sets its variable:
//   - words are separated by blanks (space, tab, newline, carriage return); a quote (' or ")
//     may open anywhere in a word and is removed with its closing one; a backslash, inside
//     quotes or not, starts a C escape (\n, \t, \s for a space, \xHH, \uHHHH, \UHHHHHHHH,
//     \NNN octal, ...: escape.c, cunescape_one). An unknown escape, an escaped NUL, an
//     unterminated quote or a trailing backslash is a syntax error: the words before it are
//     kept, it and the rest of the line are ignored ("Invalid syntax, ignoring");
//   - specifiers after unescaping (so "\x25n" is "%n"): "%%" is "%", the unit's name parts
//     (%n %N %p %P %i %I %j %J %f; the unescaped ones fail on an escape other than \xHH and
//     drop the word) and the system manager's folders (%t %S %C %L %E %T %V) are expanded; a
//     letter or digit systemd 257 does not know drops the word (236 and later); one whose value
//     is the host's at run time (%H, %m, %v, %u...) is left as written; a '%' before anything
//     else, or last, stays;
//   - a word that is not NAME=VALUE with NAME of [A-Za-z_][A-Za-z0-9_]* and VALUE valid UTF-8
//     is ignored on its own (env_assignment_is_valid; before 248 a value with a control
//     character other than tab, and before 239 newline, is ignored too: kept here).
// systemd before 233 (CentOS 7 and Amazon Linux 2: 219; Ubuntu 16.04: 229; Debian 9: 232) read
// the value another way: specifiers expanded on the whole value before splitting, quotes only
// at a word's start, an invalid escape dropping only its word (kept as written in 219), no
// %S %C %L %E %T %V %j, unknown letters kept. Plain values, whole words quoted, read the same.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cnm {

// The (name, value) pairs one Environment= value sets, in order, in the unit named `unit`
// ("datadog-agent-sysprobe.service").
std::vector<std::pair<std::string, std::string>> environment_assignments(std::string_view value,
                                                                         std::string_view unit);

// Whether a name is a variable's: [A-Za-z_][A-Za-z0-9_]* (systemd's env_name_is_valid, and a
// shell's).
bool is_variable_name(std::string_view name);

}  // namespace cnm
