// Sets one scalar in a YAML file without rewriting it. yaml-cpp drops comments and reformats
// (platform-facts), so we only use it to locate nodes (line/column marks) and to verify: the
// value is spliced into the original text, the result is parsed again and must equal the
// original document with exactly that key changed. Everything else survives byte-for-byte.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cnm {

// A refusal, with the 1-based position in the input it is about (0 when not about a place).
class YamlEditError : public std::runtime_error {
 public:
  YamlEditError(const std::string& what, int line, int column)
      : std::runtime_error(
            line > 0 ? std::to_string(line) + ":" + std::to_string(column) + ": " + what : what),
        line_(line),
        column_(column) {}
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_;
  int column_;
};

// Splits "network_config.enabled" into its keys; throws YamlEditError on empty parts.
std::vector<std::string> split_key_path(std::string_view dotted);

// Returns text with the mapping key at `path` set to the scalar `value` (YAML text such as
// "true", "8080" or "\"a b\"": see yaml_scalar_text), creating missing parent mappings.
// Keys are matched as the Datadog Agent reads them: case-insensitively, and a dotted key
// ("network_config.enabled: false", at any level) spells the parts it joins. Every spelling of
// the path that exists is set, so whichever one the Agent reads holds the value; a null parent
// ("key:", "key: ~", "key: null") is filled; the nested form is added only when no spelling
// exists. Returns text unchanged when every spelling already holds exactly that text. Throws
// YamlEditError (nothing produced) on malformed YAML, duplicate keys (case-insensitive), a
// parent that is not a mapping, aliases, multi-line values, an edit that a later merge key
// ("<<", applied in order by the Agent's reader) may undo or a key added to a mapping that
// merges another, or any edit whose re-parse differs from the intended document.
// With add_when_absent false, only spellings that hold the key are set: text comes back
// unchanged when none does.
std::string yaml_set(std::string_view text, const std::vector<std::string>& path,
                     std::string_view value, bool add_when_absent = true);

// The YAML text for a --set value: the value itself when it is one plain or quoted scalar on
// one line that reads back as itself ("true", "8080", "/var/log", "'it''s'"), so it keeps its
// YAML type; else the value as a double-quoted string ("|" -> "\"|\"", "a: b" -> "\"a: b\"").
// Throws YamlEditError for a list or mapping ("[...", "{..."), and for a plain word the Agent's
// YAML 1.1 reader takes for something else than YAML 1.2 does (yes/no/on/off/y/n: booleans; 0755:
// octal): the operator quotes it for the text, or writes true/false.
std::string yaml_scalar_text(std::string_view value);

// Throws YamlEditError if text is not one well-formed YAML document with unique mapping keys.
void yaml_validate(std::string_view text);

}  // namespace cnm
