#include "installer/yaml_edit.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/yaml_load.h"

namespace cnm {
namespace {

YamlEditError at_mark(const std::string& what, const YAML::Mark& m) {
  if (m.is_null()) return YamlEditError(what, 0, 0);
  return YamlEditError(what, m.line + 1, m.column + 1);
}

// Parses exactly one document; any parse error becomes a YamlEditError with its position.
YAML::Node parse_one(std::string_view text) {
  std::vector<YAML::Node> docs;
  try {
    docs = load_all_yaml(text);  // bounded: aliases counted expanded, depth limited
  } catch (const YamlBudgetError& e) {
    throw YamlEditError(e.what(), e.line(), e.column());
  } catch (const YAML::ParserException& e) {
    throw at_mark("malformed YAML: " + e.msg, e.mark);
  } catch (const YAML::Exception& e) {
    throw at_mark("malformed YAML: " + e.msg, e.mark);
  }
  if (docs.size() > 1) throw YamlEditError("more than one YAML document; refusing to guess", 0, 0);
  if (docs.empty()) return YAML::Node(YAML::NodeType::Null);
  return docs.front();
}

// yaml-cpp keeps duplicate keys silently; which one the agent would use is a guess, so refuse.
void check_unique_keys(const YAML::Node& n, int depth = 0) {
  if (depth > 64) throw at_mark("YAML nested too deep", n.Mark());
  if (n.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        const auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh)
          throw at_mark("duplicate key '" + kv.first.Scalar() + "' (first at line " +
                            std::to_string(it->second.line + 1) + ")",
                        kv.first.Mark());
      }
      check_unique_keys(kv.second, depth + 1);
    }
  } else if (n.IsSequence()) {
    for (const auto& e : n) check_unique_keys(e, depth + 1);
  }
}

bool same_tree(const YAML::Node& a, const YAML::Node& b, int depth = 0) {
  if (depth > 64) return false;
  if (a.Type() != b.Type()) return false;
  switch (a.Type()) {
    case YAML::NodeType::Scalar:
      return a.Scalar() == b.Scalar();
    case YAML::NodeType::Sequence: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!same_tree(a[i], b[i], depth + 1)) return false;
      return true;
    }
    case YAML::NodeType::Map: {
      if (a.size() != b.size()) return false;
      // Order of existing keys is kept by the splice itself; new keys may go first or last, so
      // entries are matched by key: scalar keys through an index of b (linear in the size of
      // the map, not quadratic), other keys (rare) by a scan.
      std::unordered_multimap<std::string, YAML::Node> by_key;
      std::vector<std::pair<YAML::Node, YAML::Node>> other;
      for (const auto& kv : b) {
        if (kv.first.IsScalar())
          by_key.emplace(kv.first.Scalar(), kv.second);
        else
          other.emplace_back(kv.first, kv.second);
      }
      for (const auto& kv : a) {
        bool matched = false;
        if (kv.first.IsScalar()) {
          const auto [lo, hi] = by_key.equal_range(kv.first.Scalar());
          for (auto it = lo; it != hi && !matched; ++it)
            matched = same_tree(kv.second, it->second, depth + 1);
        } else {
          for (const auto& [k, v] : other)
            if (!matched)
              matched = same_tree(kv.first, k, depth + 1) && same_tree(kv.second, v, depth + 1);
        }
        if (!matched) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

// The original tree with path set to value, built independently of the text splice.
YAML::Node expected_tree(const YAML::Node& original, const std::vector<std::string>& path,
                         const YAML::Node& value, std::size_t i = 0) {
  if (i == path.size()) return YAML::Clone(value);
  YAML::Node out(YAML::NodeType::Map);
  bool found = false;
  if (original.IsMap()) {
    for (const auto& kv : original) {
      // force_insert appends: operator[] would look every key up again (quadratic).
      if (kv.first.IsScalar() && kv.first.Scalar() == path[i]) {
        out.force_insert(YAML::Clone(kv.first), expected_tree(kv.second, path, value, i + 1));
        found = true;
      } else {
        out.force_insert(YAML::Clone(kv.first), YAML::Clone(kv.second));
      }
    }
  }
  if (!found) out.force_insert(path[i], expected_tree(YAML::Node(), path, value, i + 1));
  return out;
}

class Splicer {
 public:
  explicit Splicer(std::string_view text) : text_(text) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n') starts_.push_back(i + 1);
    eol_ = text_.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  }

  const std::string& eol() const { return eol_; }

  // Byte offset of a mark. yaml-cpp counts decoded characters; lines are exact because '\n'
  // is kept, and callers verify the bytes found at the offset before using it.
  std::size_t offset(const YAML::Mark& m) const {
    if (m.is_null() || m.line < 0 || static_cast<std::size_t>(m.line) >= starts_.size())
      throw YamlEditError("cannot locate a node in the text", 0, 0);
    const std::size_t off =
        starts_[static_cast<std::size_t>(m.line)] + static_cast<std::size_t>(m.column);
    if (off > text_.size()) throw at_mark("cannot locate a node in the text", m);
    return off;
  }

  std::size_t line_end(std::size_t off) const {
    const auto nl = text_.find('\n', off);
    return nl == std::string_view::npos ? text_.size() : nl + 1;
  }
  std::size_t line_start(std::size_t off) const {
    const auto nl = off == 0 ? std::string_view::npos : text_.rfind('\n', off - 1);
    return nl == std::string_view::npos ? 0 : nl + 1;
  }

  // [begin, end) of a one-line scalar's text starting at off (after any anchor or tag).
  std::pair<std::size_t, std::size_t> scalar_span(std::size_t off, bool flow,
                                                  const YAML::Mark& m) const {
    std::size_t b = off;
    while (b < text_.size() && (text_[b] == '&' || text_[b] == '!')) {
      while (b < text_.size() && !is_space(text_[b])) ++b;
      while (b < text_.size() && (text_[b] == ' ' || text_[b] == '\t')) ++b;
    }
    if (b >= text_.size()) throw at_mark("value not found in the text", m);
    const char c = text_[b];
    if (c == '*') throw at_mark("value is an alias; edit the anchored node instead", m);
    if (c == '|' || c == '>') throw at_mark("multi-line (block) value; refusing to edit", m);
    std::size_t e = b;
    if (c == '"' || c == '\'') {
      for (e = b + 1; e < text_.size(); ++e) {
        if (text_[e] == '\n' || text_[e] == '\r')
          throw at_mark("quoted value spans lines; refusing to edit", m);
        if (c == '"' && text_[e] == '\\') {
          ++e;
          continue;
        }
        if (text_[e] == c) {
          if (c == '\'' && e + 1 < text_.size() && text_[e + 1] == '\'') {
            ++e;
            continue;
          }
          return {b, e + 1};
        }
      }
      throw at_mark("unterminated quoted value", m);
    }
    for (; e < text_.size(); ++e) {
      const char x = text_[e];
      if (x == '\n' || x == '\r') break;
      if (flow && (x == ',' || x == '}' || x == ']')) break;
      if (x == '#' && e > b && (text_[e - 1] == ' ' || text_[e - 1] == '\t')) break;
    }
    while (e > b && (text_[e - 1] == ' ' || text_[e - 1] == '\t')) --e;
    return {b, e};
  }

  // Offset of the '}' closing the flow mapping that opens at off.
  std::size_t flow_close(std::size_t off, const YAML::Mark& m) const {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = off; i < text_.size(); ++i) {
      const char x = text_[i];
      if (quote) {
        if (quote == '"' && x == '\\')
          ++i;
        else if (x == quote)
          quote = 0;
        continue;
      }
      if (x == '"' || x == '\'')
        quote = x;
      else if (x == '{' || x == '[')
        ++depth;
      else if ((x == '}' || x == ']') && --depth == 0)
        return i;
    }
    throw at_mark("unterminated flow mapping", m);
  }

  std::string_view text() const { return text_; }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  std::string_view text_;
  std::vector<std::size_t> starts_;
  std::string eol_;
};

// Block lines for path[i..] = value, each level indented `step` more than `indent`.
std::string block_lines(const std::vector<std::string>& path, std::size_t i, std::string_view value,
                        const std::string& indent, const std::string& eol) {
  std::string out, ind = indent;
  for (; i < path.size(); ++i) {
    out += ind + path[i] + ":";
    if (i + 1 == path.size()) out += " " + std::string(value);
    out += eol;
    ind += "  ";
  }
  return out;
}

std::string flow_text(const std::vector<std::string>& path, std::size_t i, std::string_view value) {
  std::string out = path[i] + ": ";
  if (i + 1 == path.size()) return out + std::string(value);
  return out + "{" + flow_text(path, i + 1, value) + "}";
}

bool plain_key(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

// Whether a null value is written out ("~", "null") rather than just absent after "key:".
bool explicit_null(const Splicer& sp, const YAML::Node& value, const YAML::Node& key) {
  if (value.Mark().is_null() || value.Mark().line != key.Mark().line) return false;
  const auto off = sp.offset(value.Mark());
  if (off <= sp.offset(key.Mark())) return false;
  const auto t = sp.text().substr(off, 4);
  return !t.empty() && (t[0] == '~' || t == "null" || t == "Null" || t == "NULL");
}

}  // namespace

std::vector<std::string> split_key_path(std::string_view dotted) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (true) {
    const auto dot = dotted.find('.', b);
    const auto part = dotted.substr(b, dot == std::string_view::npos ? dotted.npos : dot - b);
    if (!plain_key(part))
      throw YamlEditError(
          "bad key '" + std::string(dotted) + "': use dotted names of letters, digits, '_' and '-'",
          0, 0);
    out.emplace_back(part);
    if (dot == std::string_view::npos) break;
    b = dot + 1;
  }
  return out;
}

void yaml_validate(std::string_view text) {
  const auto root = parse_one(text);
  check_unique_keys(root);
}

std::string yaml_set(std::string_view text, const std::vector<std::string>& path,
                     std::string_view value) {
  if (path.empty()) throw YamlEditError("empty key", 0, 0);
  const auto root = parse_one(text);
  check_unique_keys(root);
  YAML::Node value_node;
  try {
    value_node = YAML::Load(std::string(value));
  } catch (const YAML::Exception&) {
  }
  if (!value_node.IsScalar() || value.find_first_of("\r\n#") != std::string_view::npos ||
      value.empty() || value.front() == '*' || value.front() == '&')
    throw YamlEditError("value '" + std::string(value) + "' is not a one-line YAML scalar", 0, 0);
  if (!root.IsMap() && !root.IsNull()) throw at_mark("the document is not a mapping", root.Mark());

  Splicer sp(text);
  std::string out;
  YAML::Node node = root;
  bool flow = false;
  std::optional<YAML::Node> key_of_node;  // the key whose value `node` is (none for the root)
  for (std::size_t i = 0; i < path.size(); ++i) {
    const bool last = i + 1 == path.size();
    if (node.IsMap() && !flow && !node.Mark().is_null() &&
        sp.text().substr(sp.offset(node.Mark()), 1) == "{")
      flow = true;
    if (!node.IsNull() && !node.IsMap())
      throw at_mark("'" + path[i - 1] + "' is not a mapping", node.Mark());
    std::optional<YAML::Node> child_key, child;
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == path[i]) {
          child_key.emplace(kv.first);
          child.emplace(kv.second);
        }
      }
    }
    if (child && !last) {
      // YAML::Node's operator= writes through to the tree; rebind instead.
      key_of_node.emplace(*child_key);
      node.reset(*child);
      continue;
    }
    if (child) {
      // Replace the existing scalar.
      if (!child->IsScalar() && !child->IsNull())
        throw at_mark("'" + path[i] + "' holds a " + (child->IsMap() ? "mapping" : "sequence") +
                          ", not a value",
                      child->Mark());
      std::pair<std::size_t, std::size_t> span;
      if (child->IsNull() && !explicit_null(sp, *child, *child_key)) {
        // "key:" with nothing after the colon: put the value right after it.
        const auto koff = sp.offset(child_key->Mark());
        const auto colon = sp.text().find(':', koff + path[i].size());
        if (colon == std::string_view::npos)
          throw at_mark("cannot find ':' after key", child_key->Mark());
        out = std::string(sp.text().substr(0, colon + 1)) + " " + std::string(value) +
              std::string(sp.text().substr(colon + 1));
        break;
      }
      if (child->Mark().is_null() || child->Mark().line != child_key->Mark().line ||
          sp.offset(child->Mark()) <= sp.offset(child_key->Mark())) {
        // yaml-cpp marks an alias with its anchor's place: the value is not where the key is.
        const auto koff = sp.offset(child_key->Mark());
        const auto colon = sp.text().find(':', koff + path[i].size());
        const auto v = colon == std::string_view::npos
                           ? std::string_view::npos
                           : sp.text().find_first_not_of(" \t", colon + 1);
        if (v != std::string_view::npos && sp.text()[v] == '*')
          throw at_mark("value is an alias; edit the anchored node instead", child_key->Mark());
        throw at_mark("value is not on its key's line; refusing to edit", child_key->Mark());
      }
      span = sp.scalar_span(sp.offset(child->Mark()), flow, child->Mark());
      if (sp.text().substr(span.first, span.second - span.first) == value) return std::string(text);
      out = std::string(sp.text().substr(0, span.first)) + std::string(value) +
            std::string(sp.text().substr(span.second));
      break;
    }
    // Key absent in `node`: insert the rest of the path.
    if (flow) {
      const auto open = sp.offset(node.Mark());
      const auto close = sp.flow_close(open, node.Mark());
      std::size_t last_char = close;
      while (last_char > open + 1 &&
             std::isspace(static_cast<unsigned char>(sp.text()[last_char - 1])))
        --last_char;
      const bool empty = last_char == open + 1;
      out = std::string(sp.text().substr(0, last_char)) + (empty ? "" : ", ") +
            flow_text(path, i, value) + std::string(sp.text().substr(last_char));
      break;
    }
    if (node.IsMap() && node.size() > 0) {
      // After the parent key's line (or at the end for the root), as indented as the siblings.
      const auto first_key_off = sp.offset(node.begin()->first.Mark());
      const auto ls = sp.line_start(first_key_off);
      const std::string indent(sp.text().substr(ls, first_key_off - ls));
      if (indent.find_first_not_of(" \t") != std::string::npos)
        throw at_mark("cannot add a key next to a mapping that shares its line",
                      node.begin()->first.Mark());
      std::size_t at;
      std::string prefix;
      if (key_of_node) {
        at = sp.line_end(sp.offset(key_of_node->Mark()));
      } else {
        at = sp.text().size();
      }
      if (at > 0 && sp.text()[at - 1] != '\n') prefix = sp.eol();
      out = std::string(sp.text().substr(0, at)) + prefix +
            block_lines(path, i, value, indent, sp.eol()) + std::string(sp.text().substr(at));
      break;
    }
    // node is null: the root of an empty document, or "key:" with no value yet.
    if (!key_of_node) {
      std::string prefix = (!text.empty() && text.back() != '\n') ? sp.eol() : "";
      out = std::string(text) + prefix + block_lines(path, i, value, "", sp.eol());
      break;
    }
    const auto koff = sp.offset(key_of_node->Mark());
    const auto colon = sp.text().find(':', koff + path[i - 1].size());
    if (colon == std::string_view::npos)
      throw at_mark("cannot find ':' after key", key_of_node->Mark());
    const auto le = sp.line_end(koff);
    std::string_view rest = sp.text().substr(colon + 1, le - colon - 1);
    const auto content = rest.find_first_not_of(" \t\r\n");
    if (content != std::string_view::npos && rest[content] != '#')
      throw at_mark("'" + path[i - 1] + "' is set to a value, not a mapping", key_of_node->Mark());
    const auto ls = sp.line_start(koff);
    const std::string indent = std::string(sp.text().substr(ls, koff - ls)) + "  ";
    const std::string prefix = (le > 0 && sp.text()[le - 1] != '\n') ? sp.eol() : "";
    out = std::string(sp.text().substr(0, le)) + prefix +
          block_lines(path, i, value, indent, sp.eol()) + std::string(sp.text().substr(le));
    break;
  }

  // The splice must give exactly the intended document; anything else is our bug or a layout
  // we do not understand, and the user's file must not pay for it.
  YAML::Node after;
  try {
    after = parse_one(out);
  } catch (const YamlEditError& e) {
    throw YamlEditError(std::string("editing would break the file (") + e.what() + "); not changed",
                        0, 0);
  }
  if (!same_tree(after, expected_tree(root, path, value_node)))
    throw YamlEditError("cannot edit this file's layout safely; set the key by hand", 0, 0);
  return out;
}

}  // namespace cnm
