#include "common/unit_environment.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>

#include "common/printable.h"

namespace cnm {
namespace {

constexpr std::string_view kBlanks = " \t\n\r";  // systemd's WHITESPACE

// n digits of `base` at s[i]; nullopt when fewer.
std::optional<std::uint32_t> digits_at(std::string_view s, std::size_t i, std::size_t n, int base) {
  if (i + n > s.size()) return std::nullopt;
  std::uint32_t v = 0;
  const char* end = s.data() + i + n;
  const auto [stop, ec] = std::from_chars(s.data() + i, end, v, base);
  if (ec != std::errc() || stop != end) return std::nullopt;
  return v;
}

// systemd's unichar_is_valid: a code point, not a surrogate or a noncharacter.
bool valid_code_point(std::uint32_t c) {
  return c < 0x110000 && (c & 0xFFFFF800) != 0xD800 && !(c >= 0xFDD0 && c <= 0xFDEF) &&
         (c & 0xFFFE) != 0xFFFE;
}

void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | c >> 6);
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | c >> 12);
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | c >> 18);
    out += static_cast<char>(0x80 | (c >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// The escapes of one letter, each followed by what it stands for (cunescape_one).
constexpr std::string_view kSimpleEscapes = "a\ab\bf\fn\nr\rt\tv\vs \\\\\"\"''";

// Decodes the escape whose letter is s[i] (after the backslash) into out, as cunescape_one
// does without accepting a NUL; the bytes it took, or 0 for an invalid escape.
std::size_t unescape_at(std::string_view s, std::size_t i, std::string& out) {
  const char c = s[i];
  if (const auto e = kSimpleEscapes.find(c); e != std::string_view::npos && e % 2 == 0) {
    out += kSimpleEscapes[e + 1];
    return 1;
  }
  switch (c) {
    case 'x': {  // a raw byte
      const auto v = digits_at(s, i + 1, 2, 16);
      if (!v || *v == 0) return 0;
      out += static_cast<char>(*v);
      return 3;
    }
    case 'u':  // not checked for surrogates here: the value's UTF-8 check refuses them
    case 'U': {
      const std::size_t n = c == 'u' ? 4 : 8;
      const auto v = digits_at(s, i + 1, n, 16);
      if (!v || *v == 0 || (c == 'U' && !valid_code_point(*v))) return 0;
      append_utf8(out, *v);
      return n + 1;
    }
    default:
      break;
  }
  // \NNN: exactly three octal digits, 1 to 255, a raw byte.
  const auto v = digits_at(s, i, 3, 8);
  if (!v || *v == 0 || *v > 255) return 0;
  out += static_cast<char>(*v);
  return 3;
}

// The next word from `pos` (extract_first_word with EXTRACT_CUNESCAPE | EXTRACT_UNQUOTE):
// nullopt at the end, and at a syntax error, where systemd stops reading the line.
std::optional<std::string> next_word(std::string_view s, std::size_t& pos) {
  pos = s.find_first_not_of(kBlanks, pos);
  if (pos == std::string_view::npos) {
    pos = s.size();
    return std::nullopt;
  }
  std::string word;
  char quote = 0;
  while (pos < s.size()) {
    const char c = s[pos];
    if (!quote && kBlanks.find(c) != std::string_view::npos) break;
    if (c == '\\') {
      const std::size_t n = pos + 1 < s.size() ? unescape_at(s, pos + 1, word) : 0;
      if (n == 0) return std::nullopt;
      pos += 1 + n;
    } else if (quote ? c == quote : (c == '"' || c == '\'')) {
      quote = quote ? 0 : c;
      ++pos;
    } else {
      word += c;
      ++pos;
    }
  }
  if (quote) return std::nullopt;
  return word;
}

// A part of a unit's name as a path or text again (unit_name_unescape): '-' is '/', "\xHH" a
// byte; nullopt for another escape, where systemd fails the specifier and drops the word. Its
// result is a C string: a "\x00" ends it (the escapes after it are still checked).
std::optional<std::string> unescape_name(std::string_view f) {
  std::string out;
  bool ended = false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '-') {
      c = '/';
    } else if (c == '\\') {
      const auto v =
          f.size() > i + 1 && f[i + 1] == 'x' ? digits_at(f, i + 2, 2, 16) : std::nullopt;
      if (!v) return std::nullopt;
      c = static_cast<char>(*v);
      i += 3;
    }
    ended = ended || c == '\0';
    if (!ended) out += c;
  }
  return out;
}

// Whether a path is normalized as systemd's path_is_normalized wants it: no empty, "." or ".."
// part ("//", "/./", "/../").
bool normalized(std::string_view path) {
  for (std::size_t start = 1; start <= path.size();) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// %f: the instance, else the prefix, unescaped as a path (unit_name_path_unescape): "-" is "/",
// anything else gets a leading '/', may not begin or end with one, and must be normalized.
std::optional<std::string> unescape_path(std::string_view f) {
  if (f == "-") return std::string("/");
  const auto w = unescape_name(f);
  if (!w || w->empty() || w->front() == '/' || w->back() == '/' || !normalized("/" + *w))
    return std::nullopt;
  return "/" + *w;
}

// The parts of a unit's name the name specifiers stand for (unit-printf.c): "a-b@c.service"
// has prefix "a-b" (%p), instance "c" (%i), and its prefix's last dash-part "b" (%j).
struct UnitNameParts {
  std::string full, without_suffix, prefix, instance, last_part;
  bool templated = false;
  explicit UnitNameParts(std::string_view unit) : full(unit) {
    const auto dot = unit.rfind('.');
    without_suffix = std::string(unit.substr(0, dot));
    const auto at = without_suffix.find('@');
    prefix = without_suffix.substr(0, at);
    templated = at != std::string::npos;
    if (templated) instance = without_suffix.substr(at + 1);
    const auto dash = prefix.rfind('-');
    last_part = dash == std::string::npos ? prefix : prefix.substr(dash + 1);
  }
};

// Every specifier letter systemd 257 knows in a unit (unit-printf.c, specifier.h's shared ones;
// %c deprecated but still expanded). An older systemd knows fewer and drops a word with a
// newer one (from 236; before, it kept the word as written): cnmkit keeps such a word.
constexpr std::string_view kKnownSpecifiers = "aAbBcCdDEfgGhHiIjJlLmMnNopPqrRsStTuUvVwWyY";

// The system manager's folders (%t runtime, %S state, %C cache, %L logs, %E configuration,
// %T and %V temporary).
constexpr std::pair<char, std::string_view> kManagerFolders[] = {
    {'t', "/run"}, {'S', "/var/lib"}, {'C', "/var/cache"}, {'L', "/var/log"},
    {'E', "/etc"}, {'T', "/tmp"},     {'V', "/var/tmp"}};

// Whether a letter stands for a part of the unit's name or a folder of the system manager:
// known here. The others' values are the host's at run time (%H, %m, %v, %u...): left as
// written.
bool of_the_unit(char c) {
  if (std::string_view("nNpPiIjJf").find(c) != std::string_view::npos) return true;
  for (const auto& [letter, folder] : kManagerFolders)
    if (c == letter) return true;
  return false;
}

// What a letter of_the_unit stands for; nullopt when a name part does not unescape.
std::optional<std::string> specifier_value(char c, const UnitNameParts& u) {
  switch (c) {
    case 'n':
      return u.full;
    case 'N':
      return u.without_suffix;
    case 'p':
      return u.prefix;
    case 'P':
      return unescape_name(u.prefix);
    case 'i':
      return u.instance;
    case 'I':
      return unescape_name(u.instance);
    case 'j':
      return u.last_part;
    case 'J':
      return unescape_name(u.last_part);
    case 'f':
      return unescape_path(u.templated ? u.instance : u.prefix);
    default:
      break;
  }
  for (const auto& [letter, folder] : kManagerFolders)
    if (c == letter) return std::string(folder);
  return std::nullopt;
}

// The word with its specifiers expanded (specifier_printf); nullopt when systemd drops it (a
// letter or digit it does not know: -EBADSLT).
std::optional<std::string> expand_specifiers(std::string_view w, const UnitNameParts& u) {
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] != '%' || i + 1 == w.size()) {
      out += w[i];
      continue;
    }
    const char c = w[++i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '%') {
      out += '%';
    } else if (!alnum) {
      out += '%';
      out += c;
    } else if (kKnownSpecifiers.find(c) == std::string_view::npos) {
      return std::nullopt;
    } else if (!of_the_unit(c)) {
      out += '%';
      out += c;
    } else if (const auto v = specifier_value(c, u)) {
      out += *v;
    } else {
      return std::nullopt;  // a name part that does not unescape: the specifier fails
    }
  }
  return out;
}

// Strict UTF-8 (utf8_is_valid): no invalid sequence, no noncharacter.
bool valid_value(std::string_view v) {
  for (std::size_t i = 0; i < v.size();) {
    if (static_cast<unsigned char>(v[i]) < 0x80) {
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t n = utf8_at(v, i, cp);
    if (n == 0 || !valid_code_point(cp)) return false;
    i += n;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> environment_assignments(std::string_view value,
                                                                         std::string_view unit) {
  const UnitNameParts names(unit);
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (const auto word = next_word(value, pos)) {
    const auto expanded = expand_specifiers(*word, names);
    if (!expanded) continue;
    const auto eq = expanded->find('=');
    if (eq == std::string::npos) continue;
    std::string name = expanded->substr(0, eq), val = expanded->substr(eq + 1);
    if (is_variable_name(name) && valid_value(val))
      out.emplace_back(std::move(name), std::move(val));
  }
  return out;
}

bool is_variable_name(std::string_view n) {
  if (n.empty() || (n.front() >= '0' && n.front() <= '9')) return false;
  for (const char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

}  // namespace cnm
