#include "installer/yaml_edit.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/agent_keys.h"
#include "common/host_fs.h"
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
// The Agent lowercases keys, so keys differing only in case are duplicates too (Go's map
// iteration order would decide which one wins).
void check_unique_keys(const YAML::Node& n, int depth = 0) {
  if (depth > 64) throw at_mark("YAML nested too deep", n.Mark());
  if (n.IsMap()) {
    std::map<std::string, std::pair<std::string, YAML::Mark>> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        const auto [it, fresh] = seen.emplace(agent_key(kv.first.Scalar()),
                                              std::pair(kv.first.Scalar(), kv.first.Mark()));
        if (!fresh) {
          const auto& [first, mark] = it->second;
          std::string what = "duplicate key '" + kv.first.Scalar() + "' (first at line " +
                             std::to_string(mark.line + 1);
          if (first != kv.first.Scalar())
            what += " as '" + first + "'; the Agent reads keys case-insensitively";
          throw at_mark(what + ")", kv.first.Mark());
        }
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

// One key to set, named by the document's own keys from the root (new keys as the path names
// them).
struct TreeEdit {
  std::vector<std::string> keys;
  const YAML::Node* value;
};

// The original tree with every edit applied, built independently of the text splices. `edits`
// all share keys[0..i).
YAML::Node expected_tree(const YAML::Node& original, const std::vector<const TreeEdit*>& edits,
                         std::size_t i = 0) {
  for (const auto* e : edits)
    if (e->keys.size() == i) return YAML::Clone(*e->value);
  std::unordered_map<std::string, std::vector<const TreeEdit*>> by_key;
  std::vector<std::string> order;  // new keys, in the order the edits name them
  for (const auto* e : edits) {
    auto& v = by_key[e->keys[i]];
    if (v.empty()) order.push_back(e->keys[i]);
    v.push_back(e);
  }
  YAML::Node out(YAML::NodeType::Map);
  if (original.IsMap()) {
    for (const auto& kv : original) {
      // force_insert appends: operator[] would look every key up again (quadratic).
      const auto it = kv.first.IsScalar() ? by_key.find(kv.first.Scalar()) : by_key.end();
      if (it != by_key.end()) {
        out.force_insert(YAML::Clone(kv.first), expected_tree(kv.second, it->second, i + 1));
        by_key.erase(it);
      } else {
        out.force_insert(YAML::Clone(kv.first), YAML::Clone(kv.second));
      }
    }
  }
  for (const auto& k : order) {
    const auto it = by_key.find(k);
    if (it != by_key.end()) out.force_insert(k, expected_tree(YAML::Node(), it->second, i + 1));
  }
  return out;
}

class Splicer {
 public:
  explicit Splicer(std::string_view text) : text_(text) {
    // yaml-cpp reads past a UTF-8 byte order mark without counting it in line 1's columns, so
    // line 1 starts after it (for offsets and indentation alike).
    starts_.push_back(text_.starts_with("\xef\xbb\xbf") ? 3 : 0);
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
    return nl == std::string_view::npos ? std::min(starts_[0], off) : nl + 1;
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

  // The flow mapping that opens with the '{' at `open`: where its '}' is, and where its last
  // entry ends (after the last scalar, ',' or nested collection; before any comment).
  struct FlowSpan {
    std::size_t close, content_end;
  };

  // A quote starts a quoted scalar only where a scalar starts; inside a plain scalar ("it's")
  // it is an ordinary character (YAML 1.2, 7.3.3: ns-plain-char). A '#' after white space
  // starts a comment, which may hold anything up to the line's end.
  FlowSpan flow_span(std::size_t open, const YAML::Mark& m) const {
    int depth = 0;
    bool plain = false;  // inside a plain scalar
    std::size_t content_end = open + 1;
    for (std::size_t i = open; i < text_.size(); ++i) {
      const char x = text_[i];
      if (is_space(x)) continue;
      if (x == '#' && i > open && is_space(text_[i - 1])) {
        i = line_end(i) - 1;
        plain = false;  // a comment ends a plain scalar
        continue;
      }
      const bool indicator = x == ',' || x == '[' || x == ']' || x == '{' || x == '}';
      if (plain) {
        // ": " (or ':' before an indicator) ends a plain key; any other ':' belongs to it.
        const bool colon =
            x == ':' && (i + 1 == text_.size() || is_space(text_[i + 1]) ||
                         std::string_view(",[]{}").find(text_[i + 1]) != std::string_view::npos);
        if (!indicator && !colon) {
          content_end = i + 1;
          continue;
        }
        plain = false;
      }
      if (x == '"' || x == '\'') {
        std::size_t e = i + 1;
        for (; e < text_.size(); ++e) {
          if (x == '"' && text_[e] == '\\') {
            ++e;
          } else if (text_[e] == x) {
            if (x == '\'' && e + 1 < text_.size() && text_[e + 1] == '\'') {
              ++e;
              continue;
            }
            break;
          }
        }
        if (e >= text_.size()) break;
        i = e;
      } else if (x == '&' || x == '!' || x == '*') {
        // An anchor, tag or alias: one token, ended by white space or a flow indicator.
        while (i + 1 < text_.size() && !is_space(text_[i + 1]) &&
               std::string_view(",[]{}").find(text_[i + 1]) == std::string_view::npos)
          ++i;
      } else if (x == '{' || x == '[') {
        ++depth;
      } else if (x == '}' || x == ']') {
        if (--depth == 0) return {i, content_end};
      } else if (!indicator && x != ':' &&
                 !(x == '?' && i + 1 < text_.size() && is_space(text_[i + 1]))) {
        plain = true;
      }
      content_end = i + 1;
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

std::size_t null_token_size(std::string_view t) {
  if (!t.empty() && t[0] == '~') return 1;
  const auto w = t.substr(0, 4);
  return w == "null" || w == "Null" || w == "NULL" ? 4 : 0;
}

std::string dotted(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ".") + k;
  return out;
}

bool opens_flow(const Splicer& sp, const YAML::Node& map) {
  return !map.Mark().is_null() && sp.text().substr(sp.offset(map.Mark()), 1) == "{";
}

// A key of the document that spells path[i..next): one part of the path, or several joined by
// dots. The Agent reads "network_config.enabled: x" as network_config -> enabled, at any level
// (viper's searchIndexableWithPathPrefixes tries the longest dotted prefix first;
// nodetreemodel's loadYamlInto splits the key and merges it in map order).
struct Spelling {
  std::vector<std::string> keys;  // the document's own keys from the root down to this one
  YAML::Node key, value;
  bool flow;         // the key is inside a flow mapping
  std::size_t next;  // path parts spelled down to here
  // A merge key ("<<") after this key in its mapping or after one of its parents in theirs:
  // the Agent's reader (go-yaml v2) applies merges in order, so that merge may replace the
  // value set here. Where that "<<" is; none when there is none.
  std::optional<YAML::Mark> merge_after;
};

// A YAML 1.1 merge key: a plain "<<" (yaml-cpp keeps it as an ordinary key; go-yaml merges).
bool is_merge_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && key.Tag() != "!";
}

// The last merge key of a mapping: its position among the entries (-1 when it has none) and
// where it is.
struct MergeKey {
  std::ptrdiff_t index = -1;
  YAML::Mark mark;
};

MergeKey last_merge(const YAML::Node& map) {
  MergeKey last;
  std::ptrdiff_t i = 0;
  for (const auto& kv : map) {
    if (is_merge_key(kv.first)) last = {i, kv.first.Mark()};
    ++i;
  }
  return last;
}

void collect(const Splicer& sp, const YAML::Node& map, const std::vector<std::string>& lpath,
             std::size_t i, bool flow, const std::optional<YAML::Mark>& merge_above,
             std::vector<std::string>& keys, std::vector<Spelling>& out) {
  const MergeKey merge_key = last_merge(map);
  std::ptrdiff_t index = -1;
  for (const auto& kv : map) {
    ++index;
    if (!kv.first.IsScalar()) continue;
    const auto lk = agent_key(kv.first.Scalar());
    std::string joined;
    std::size_t next = 0;
    for (std::size_t j = i; j < lpath.size() && joined.size() < lk.size(); ++j) {
      joined += (j > i ? "." : "") + lpath[j];
      if (joined == lk) next = j + 1;
    }
    if (next == 0) continue;
    keys.push_back(kv.first.Scalar());
    std::optional<YAML::Mark> merge = merge_above;
    if (!merge && index < merge_key.index) merge = merge_key.mark;
    out.push_back({keys, kv.first, kv.second, flow, next, merge});
    if (next < lpath.size() && kv.second.IsMap())
      collect(sp, kv.second, lpath, next, flow || opens_flow(sp, kv.second), merge, keys, out);
    keys.pop_back();
  }
}

struct Splice {
  std::size_t begin, end;
  std::string with;
};

// The ':' after a key (npos when there is none).
std::size_t find_colon(const Splicer& sp, const YAML::Node& key) {
  return sp.text().find(':', sp.offset(key.Mark()) + key.Scalar().size());
}

std::size_t colon_after(const Splicer& sp, const YAML::Node& key) {
  const auto colon = find_colon(sp, key);
  if (colon == std::string_view::npos) throw at_mark("cannot find ':' after key", key.Mark());
  return colon;
}

// Whether a key's value is written as an alias ("key: *name"). yaml-cpp gives the anchored node
// itself, marked at its anchor's place, so only the text tells.
bool alias_value(const Splicer& sp, const YAML::Node& key) {
  const auto colon = find_colon(sp, key);
  const auto v = colon == std::string_view::npos ? std::string_view::npos
                                                 : sp.text().find_first_not_of(" \t", colon + 1);
  return v != std::string_view::npos && sp.text()[v] == '*';
}

// An alias names another node: editing through it would edit that node (and every other alias of
// it), or replace the alias, and neither is what was asked.
void refuse_alias(const Splicer& sp, const Spelling& f) {
  if (alias_value(sp, f.key))
    throw at_mark("'" + dotted(f.keys) +
                      "' is an alias of another node (*...); edit the anchored node instead",
                  f.key.Mark());
}

// go-yaml v2, the Agent's reader, applies a mapping's merge keys in order, each overwriting the
// keys before it, and yaml-cpp, which checks our edits, does not merge at all: an edit a merge may
// undo is refused rather than reported done.
void refuse_if_merged_after(const Spelling& f) {
  if (f.merge_after)
    throw at_mark("a merge key ('<<') after '" + dotted(f.keys) +
                      "' may replace what is set there (the Agent applies merges in order); "
                      "set the key by hand below the merge",
                  *f.merge_after);
}

void refuse_adding_to_merged(const YAML::Node& map, const std::string& name) {
  if (!map.IsMap()) return;
  const MergeKey merge_key = last_merge(map);
  if (merge_key.index >= 0)
    throw at_mark(name + " takes keys from another mapping with a merge key ('<<'), which may " +
                      "hold the key; set the key by hand below the merge",
                  merge_key.mark);
}

// The splice that puts value in place of a spelling's scalar (none when it already is).
std::optional<Splice> replace_value(const Splicer& sp, const Spelling& f, std::string_view value) {
  const auto& key = f.key;
  const auto& child = f.value;
  if (child.IsNull() && !explicit_null(sp, child, key)) {
    // "key:" with nothing after the colon: put the value right after it.
    const auto colon = colon_after(sp, key);
    return Splice{colon + 1, colon + 1, " " + std::string(value)};
  }
  if (child.Mark().is_null() || child.Mark().line != key.Mark().line ||
      sp.offset(child.Mark()) <= sp.offset(key.Mark()))
    throw at_mark("value is not on its key's line; refusing to edit", key.Mark());
  const auto span = sp.scalar_span(sp.offset(child.Mark()), f.flow, child.Mark());
  if (sp.text().substr(span.first, span.second - span.first) == value) return std::nullopt;
  return Splice{span.first, span.second, std::string(value)};
}

// The splice that makes a null spelling ("key:", "key: ~", "key: null") a mapping holding
// path[f.next..] = value; the null token goes, a comment stays.
Splice fill_null(const Splicer& sp, const Spelling& f, const std::vector<std::string>& path,
                 std::string_view value) {
  const auto t = sp.text();
  const auto colon = colon_after(sp, f.key);
  std::size_t tb = colon + 1, te = colon + 1;  // the null token, if written out
  if (explicit_null(sp, f.value, f.key)) {
    tb = sp.offset(f.value.Mark());
    te = tb + null_token_size(t.substr(tb));
    if (te == tb)
      throw at_mark("'" + dotted(f.keys) + "' is null in a form cnmkit does not edit",
                    f.key.Mark());
  }
  if (f.flow) {
    return Splice{tb, te, (tb == colon + 1 ? " {" : "{") + flow_text(path, f.next, value) + "}"};
  }
  const auto le = sp.line_end(colon);
  std::string rest =
      std::string(t.substr(colon + 1, tb - colon - 1)) + std::string(t.substr(te, le - te));
  const auto content = rest.find_first_not_of(" \t\r\n");
  if (content != std::string::npos && rest[content] != '#')
    throw at_mark("'" + dotted(f.keys) + "' is set to a value, not a mapping", f.key.Mark());
  if (te > tb && content == std::string::npos) rest.erase(0, rest.find_first_not_of(" \t"));
  const auto koff = sp.offset(f.key.Mark());
  const auto ls = sp.line_start(koff);
  const std::string indent = std::string(t.substr(ls, koff - ls)) + "  ";
  const std::string prefix = (le > 0 && t[le - 1] != '\n') ? sp.eol() : "";
  return Splice{colon + 1, le, rest + prefix + block_lines(path, f.next, value, indent, sp.eol())};
}

// Where the document's own text ends: at a trailing document end marker ("...", then only
// comments or blank lines), else at the end of the text. Keys added to the root go there: after
// the marker they would start a second document.
std::size_t document_end(const Splicer& sp) {
  const auto t = sp.text();
  std::size_t end = t.size();
  while (end > 0) {
    const std::size_t ls = sp.line_start(end - 1);
    const std::string_view line = trim(t.substr(ls, end - ls));
    if (line.starts_with("...") &&
        (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '#'))
      return ls;
    if (!line.empty() && line.front() != '#') break;
    end = ls;
  }
  return t.size();
}

// The splice that adds path[next..] = value to `node`, a mapping (`key` is the key whose value
// it is; none for the root) or the empty document.
Splice insert_into(const Splicer& sp, const YAML::Node& node, const YAML::Node* key, bool flow,
                   const std::vector<std::string>& path, std::size_t next, std::string_view value) {
  const auto t = sp.text();
  if (flow) {
    // Right after the last entry: before the '}' and any comment on the way to it. A trailing
    // ',' (valid YAML) already separates the new entry.
    const auto open = sp.offset(node.Mark());
    const auto at = sp.flow_span(open, node.Mark()).content_end;
    const char before = t[at - 1];
    const std::string sep = at == open + 1 ? "" : before == ',' ? " " : ", ";
    return Splice{at, at, sep + flow_text(path, next, value)};
  }
  if (node.IsMap() && node.size() > 0) {
    // After the parent key's line (or at the end for the root), as indented as the siblings.
    const auto first_key_off = sp.offset(node.begin()->first.Mark());
    const auto ls = sp.line_start(first_key_off);
    const std::string indent(t.substr(ls, first_key_off - ls));
    if (indent.find_first_not_of(" \t") != std::string::npos)
      throw at_mark("cannot add a key next to a mapping that shares its line",
                    node.begin()->first.Mark());
    const std::size_t at = key ? sp.line_end(sp.offset(key->Mark())) : document_end(sp);
    const std::string prefix = (at > 0 && t[at - 1] != '\n') ? sp.eol() : "";
    return Splice{at, at, prefix + block_lines(path, next, value, indent, sp.eol())};
  }
  // The root of an empty document (comments at most).
  const std::size_t at = document_end(sp);
  const std::string prefix = (at > 0 && t[at - 1] != '\n') ? sp.eol() : "";
  return Splice{at, at, prefix + block_lines(path, next, value, "", sp.eol())};
}

// Whether value is one YAML scalar on one line that reads back as itself: a plain scalar
// (true, 8080, /var/log) or a quoted one taken whole ("a b", 'it''s').
bool one_line_scalar(std::string_view value, YAML::Node& parsed) {
  if (value.empty() || value.find_first_of("\r\n") != std::string_view::npos) return false;
  try {
    parsed = YAML::Load(std::string(value));
  } catch (const YAML::Exception&) {
    return false;
  }
  const char c = value.front();
  if (c == '"' || c == '\'') {
    if (!parsed.IsScalar()) return false;
    try {
      return Splicer(value).scalar_span(0, false, YAML::Mark()).second == value.size();
    } catch (const YamlEditError&) {
      return false;
    }
  }
  // '@' and '`' are reserved (go-yaml refuses them); ",[]{}" would end the value in a flow
  // mapping; '#' may start a comment.
  if (value.find_first_of("#,[]{}") != std::string_view::npos || c == '@' || c == '`') return false;
  if (parsed.IsNull()) return null_token_size(value) == value.size();
  return parsed.IsScalar() && parsed.Scalar() == value && parsed.Tag() != "!";
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

namespace {

// What the Agent's reader (go-yaml v2, YAML 1.1) makes of a plain scalar that YAML 1.2, and
// yaml-cpp, read as the text itself: y/n, yes/no, on/off are booleans there (resolve.go's
// table), and a number with a leading 0 is octal (0755 is 493). "" when the two agree.
std::string yaml11_reading(std::string_view v) {
  static constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
  for (const auto w : kTrue)
    if (v == w) return "the boolean true";
  for (const auto w : kFalse)
    if (v == w) return "the boolean false";
  const std::string_view digits = v.substr(!v.empty() && (v[0] == '-' || v[0] == '+'));
  if (digits.size() > 1 && digits[0] == '0' &&
      digits.find_first_not_of("0123456789") == std::string_view::npos)
    return "an octal number";
  return "";
}

}  // namespace

std::string yaml_scalar_text(std::string_view value) {
  YAML::Node parsed;
  if (const auto other = yaml11_reading(value); !other.empty())
    throw YamlEditError("value '" + std::string(value) + "' is read by the Agent (YAML 1.1) as " +
                            other + ", not as this text: quote it ('\"" + std::string(value) +
                            "\"') for the text" +
                            (other.starts_with("the boolean") ? ", or write true or false" : ""),
                        0, 0);
  if (one_line_scalar(value, parsed)) return std::string(value);
  if (!value.empty() && (value.front() == '[' || value.front() == '{'))
    throw YamlEditError(
        "value '" + std::string(value) + "' is a list or a mapping; only one scalar can be set", 0,
        0);
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
  if (!one_line_scalar(out, parsed) || parsed.Scalar() != value)
    throw YamlEditError("value '" + std::string(value) + "' cannot be written as a YAML string", 0,
                        0);
  return out;
}

std::string yaml_set(std::string_view text, const std::vector<std::string>& path,
                     std::string_view value, bool add_when_absent) {
  if (path.empty()) throw YamlEditError("empty key", 0, 0);
  const auto root = parse_one(text);
  check_unique_keys(root);
  YAML::Node value_node;
  if (!one_line_scalar(value, value_node))
    throw YamlEditError("value '" + std::string(value) +
                            "' is not a one-line YAML scalar that reads back as itself",
                        0, 0);
  if (!root.IsMap() && !root.IsNull()) throw at_mark("the document is not a mapping", root.Mark());

  // Every spelling of the path the Agent would read is set: the nested keys, dotted keys at any
  // level, any case. Setting only one would leave the Agent reading another (viper prefers the
  // longest dotted key; nodetreemodel merges them in Go's random map order). The nested form is
  // added only when no spelling holds the key yet.
  Splicer sp(text);
  std::vector<std::string> lpath;
  for (const auto& p : path) lpath.push_back(agent_key(p));
  std::vector<Spelling> found;
  if (root.IsMap()) {
    std::vector<std::string> keys;
    collect(sp, root, lpath, 0, opens_flow(sp, root), std::nullopt, keys, found);
  }
  std::vector<Splice> splices;
  std::vector<TreeEdit> edits;
  const Spelling* deepest = nullptr;  // the mapping to add the key to when no spelling holds it
  for (const auto& f : found) {
    if (!add_when_absent && f.next != path.size()) continue;
    refuse_alias(sp, f);  // parents come first: one written as an alias is named
    if (f.next == path.size() || f.value.IsNull()) refuse_if_merged_after(f);
    if (f.next == path.size()) {
      if (!f.value.IsScalar() && !f.value.IsNull())
        throw at_mark("'" + dotted(f.keys) + "' holds a " +
                          (f.value.IsMap() ? "mapping" : "sequence") + ", not a value",
                      f.value.Mark());
      if (auto s = replace_value(sp, f, value)) splices.push_back(std::move(*s));
      edits.push_back({f.keys, &value_node});
    } else if (f.value.IsNull()) {
      splices.push_back(fill_null(sp, f, path, value));
      edits.push_back({f.keys, &value_node});
      edits.back().keys.insert(edits.back().keys.end(),
                               path.begin() + static_cast<std::ptrdiff_t>(f.next), path.end());
    } else if (!f.value.IsMap()) {
      throw at_mark("'" + dotted(f.keys) + "' is not a mapping", f.value.Mark());
    } else if (!deepest || f.next > deepest->next) {
      deepest = &f;
    }
  }
  if (edits.empty()) {
    if (!add_when_absent) return std::string(text);
    const YAML::Node& node = deepest ? deepest->value : root;
    if (deepest) refuse_if_merged_after(*deepest);
    refuse_adding_to_merged(node, deepest ? dotted(deepest->keys) : "the document");
    const bool flow = deepest ? deepest->flow || opens_flow(sp, node) : opens_flow(sp, root);
    const std::size_t next = deepest ? deepest->next : 0;
    splices.push_back(
        insert_into(sp, node, deepest ? &deepest->key : nullptr, flow, path, next, value));
    edits.push_back({deepest ? deepest->keys : std::vector<std::string>{}, &value_node});
    edits.back().keys.insert(edits.back().keys.end(),
                             path.begin() + static_cast<std::ptrdiff_t>(next), path.end());
  }
  if (splices.empty()) return std::string(text);

  // Splice from the end so earlier offsets stay valid; splices never overlap (one key a line in
  // block style), and two at one place would have no defined order.
  std::sort(splices.begin(), splices.end(),
            [](const Splice& a, const Splice& b) { return a.begin > b.begin; });
  std::string out(text);
  for (std::size_t k = 0; k < splices.size(); ++k) {
    if (k > 0 &&
        (splices[k].end > splices[k - 1].begin || splices[k].begin == splices[k - 1].begin))
      throw YamlEditError("cannot edit this file's layout safely; set the key by hand", 0, 0);
    out.replace(splices[k].begin, splices[k].end - splices[k].begin, splices[k].with);
  }

  // The splices must give exactly the intended document; anything else is our bug or a layout
  // we do not understand, and the user's file must not pay for it.
  YAML::Node after;
  try {
    after = parse_one(out);
  } catch (const YamlEditError& e) {
    throw YamlEditError(std::string("editing would break the file (") + e.what() + "); not changed",
                        0, 0);
  }
  std::vector<const TreeEdit*> edit_ptrs;
  for (const auto& e : edits) edit_ptrs.push_back(&e);
  if (!same_tree(after, expected_tree(root, edit_ptrs)))
    throw YamlEditError("cannot edit this file's layout safely; set the key by hand", 0, 0);
  return out;
}

}  // namespace cnm
