// An `Environment=` setting of a systemd unit as systemd reads it (systemd.exec; 233 and later:
// config_parse_environ in src/core/load-fragment.c, later src/shared/conf-parser.c). The value
// is split into words by extract_first_word with C unescaping and unquoting, each word has its
// specifiers expanded, and each word that is a valid assignment sets its variable:
//   - words are separated by blanks (space, tab, newline, carriage return); a quote (' or ")
//     may open anywhere in a word and is removed with its closing one; a backslash, inside
//     quotes or not, starts a C escape (\n, \t, \s for a space, \xHH, \uHHHH, \UHHHHHHHH,
//     \NNN octal, ...: escape.c, cunescape_one). An unknown escape, a NUL, an unterminated
//     quote or a trailing backslash is a syntax error: the words before it are kept, it and
//     the rest of the line are ignored ("Invalid syntax, ignoring");
//   - specifiers after unescaping (so "\x25n" is "%n"): "%%" is "%", the unit's name parts
//     (%n %N %p %P %i %I %j %J) and the system manager's folders (%t %S %C %L %E %T %V) are
//     expanded; a letter or digit systemd does not know (236 and later) drops the word; one whose
//     value is the host's at run time (%H, %m, %v...) is left as written; a '%' before anything
//     else stays;
//   - a word that is not NAME=VALUE with NAME of [A-Za-z_][A-Za-z0-9_]* and VALUE valid UTF-8
//     is ignored on its own (env_assignment_is_valid).
// systemd before 233 (CentOS 7 and Amazon Linux 2: 219; Ubuntu 16.04: 229; Debian 9: 232) split
// the value another way (quotes only at a word's start, specifiers before splitting); its
// reading differs from this one only for values with quotes inside a word or invalid escapes.
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

}  // namespace cnm
