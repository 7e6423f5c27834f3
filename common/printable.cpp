#include "common/printable.h"

#include <cstdint>
#include <cstdio>

namespace cnm {
namespace {

void hex_byte(std::string& out, unsigned char c) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

bool hidden_format_char(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) ||      // C1 controls (CSI is 0x9b)
         cp == 0x200e || cp == 0x200f ||    // LRM, RLM
         (cp >= 0x202a && cp <= 0x202e) ||  // embeddings, overrides
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;  // isolates, separators
}

}  // namespace

std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are invalid.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

std::string printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c >= 0x20 && c != 0x7f) || c == '\t' || (c == '\n' && keep_newlines))
        out += static_cast<char>(c);
      else
        hex_byte(out, c);
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t n = utf8_at(text, i, cp);
    if (n == 0) {
      hex_byte(out, c);
      ++i;
    } else if (hidden_format_char(cp)) {
      char buf[12];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
      i += n;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string bounded_utf8(std::string_view text, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  static constexpr std::string_view kEllipsis = "\xe2\x80\xa6";     // U+2026
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() <= max_bytes;) {
    std::uint32_t cp = 0;
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = c < 0x80 ? 1 : utf8_at(text, i, cp);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  if (out.size() <= max_bytes) return out;
  if (max_bytes < kEllipsis.size()) return {};
  // out is valid UTF-8 (invalid bytes were replaced): a character starts wherever a byte is
  // not a continuation byte (10xxxxxx). Cut at the last start that leaves room for the
  // ellipsis.
  std::size_t keep = max_bytes - kEllipsis.size();
  while (keep > 0 && (static_cast<unsigned char>(out[keep]) & 0xc0) == 0x80) --keep;
  out.resize(keep);
  return out + std::string(kEllipsis);
}

}  // namespace cnm
