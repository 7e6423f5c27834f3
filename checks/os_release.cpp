#include "checks/os_release.h"

#include <cctype>

#include "common/host_fs.h"

namespace cnm {
namespace {

bool key_char(char c, bool first) {
  const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  return first ? alpha : alpha || (c >= '0' && c <= '9');
}

// Parses the value part of one assignment with shell word rules (quotes may be concatenated,
// as a shell would). Returns false on an unterminated quote.
bool parse_value(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          out += s[i + 1];
          i += 2;
        } else if (s[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          out += s[i++];
        }
      }
      if (!closed) return false;
    } else if (c == '\'') {
      const auto end = s.find('\'', i + 1);
      if (end == std::string_view::npos) return false;
      out += s.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (c == '\\' && i + 1 < s.size()) {
      out += s[i + 1];
      i += 2;
    } else if (c == ' ' || c == '\t') {
      // Unquoted whitespace ends the word; whatever follows can only be a comment.
      const auto rest = trim(s.substr(i));
      return rest.empty() || rest.front() == '#';
    } else {
      out += c;
      ++i;
    }
  }
  return true;
}

}  // namespace

std::string KeyValueFile::get(const std::string& key) const {
  const auto it = values.find(key);
  return it == values.end() ? std::string() : it->second;
}

KeyValueFile parse_os_release(std::string_view text) {
  KeyValueFile out;
  // A UTF-8 byte order mark (editors on Windows write one) is not part of the first key.
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  for_each_line(text, [&](std::string_view line) {
    line = trim(line);
    if (line.empty() || line.front() == '#') return;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    std::size_t k = 0;
    while (k < line.size() && key_char(line[k], k == 0)) ++k;
    std::string value;
    if (k == 0 || k >= line.size() || line[k] != '=' || line.find('\0') != std::string_view::npos ||
        !parse_value(line.substr(k + 1), value)) {
      ++out.malformed_lines;
    } else {
      out.values[std::string(line.substr(0, k))] = std::move(value);
    }
  });
  return out;
}

ReleaseLine parse_release_line(std::string_view text) {
  ReleaseLine r;
  const std::string line = first_line(text);
  const std::string_view s = line;
  const auto at = s.find(" release ");
  if (at == std::string_view::npos) {
    r.name = std::string(trim(s));
    return r;
  }
  r.name = std::string(trim(s.substr(0, at)));
  std::string_view rest = s.substr(at + 9);
  std::size_t e = 0;
  while (e < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[e])) || rest[e] == '.'))
    ++e;
  r.version = std::string(rest.substr(0, e));
  while (!r.version.empty() && r.version.back() == '.') r.version.pop_back();
  return r;
}

}  // namespace cnm
