#include "checks/json_schema.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace cnm {
namespace {

using nlohmann::json;

const std::set<std::string>& known_keywords() {
  static const std::set<std::string> k = {
      "$schema", "$id",      "title",     "description", "type",
      "const",   "enum",     "required",  "properties",  "additionalProperties",
      "items",   "minItems", "minLength", "pattern",     "allOf",
      "if",      "then",     "else"};
  return k;
}

// Every subschema a schema holds, so the whole tree is checked for unknown keywords up front.
void check_keywords(const json& s, const std::string& at) {
  if (s.is_boolean()) return;
  if (!s.is_object()) throw std::invalid_argument("schema at " + at + " is not an object");
  for (const auto& [key, value] : s.items()) {
    if (!known_keywords().contains(key))
      throw std::invalid_argument("schema keyword '" + key + "' at " + at + " is not supported");
    if (key == "properties")
      for (const auto& [name, sub] : value.items()) check_keywords(sub, at + "/properties/" + name);
    if (key == "items" || key == "if" || key == "then" || key == "else")
      check_keywords(value, at + "/" + key);
    if (key == "allOf")
      for (std::size_t i = 0; i < value.size(); ++i)
        check_keywords(value[i], at + "/allOf/" + std::to_string(i));
    if (key == "additionalProperties" && !value.is_boolean())
      throw std::invalid_argument("schema at " + at + ": only a boolean additionalProperties");
  }
}

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  return false;
}

std::string kind_of(const json& v) {
  if (v.is_number_integer()) return "integer";
  return v.type_name();
}

// minLength counts characters (code points), not bytes; the parser already refused bad UTF-8.
std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

constexpr std::size_t kMaxPatternInput = 1024;

// ECMAScript regexes, as JSON Schema specifies (unanchored search); compiled once each.
const std::regex& compiled(const std::string& pattern) {
  static thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end())
    it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  return it->second;
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

std::optional<std::string> validate(const json& s, const json& v, const std::string& at) {
  auto fail = [&at](const std::string& why) { return (at.empty() ? "/" : at) + ": " + why; };
  if (s.is_boolean()) return s.get<bool>() ? std::nullopt : std::optional(fail("not allowed"));
  if (const auto t = s.find("type"); t != s.end()) {
    bool ok = false;
    std::string names;
    for (const auto& name : t->is_array() ? *t : json::array({*t})) {
      ok = ok || has_type(v, name.get<std::string>());
      names += (names.empty() ? "" : " or ") + name.get<std::string>();
    }
    if (!ok) return fail("expected " + names + ", got " + kind_of(v));
  }
  if (const auto c = s.find("const"); c != s.end() && v != *c) return fail("must be " + c->dump());
  if (const auto e = s.find("enum"); e != s.end()) {
    if (std::find(e->begin(), e->end(), v) == e->end()) return fail("must be one of " + e->dump());
  }
  if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    if (const auto m = s.find("minLength");
        m != s.end() && code_points(str) < m->get<std::size_t>())
      return fail("shorter than " + m->dump() + " characters");
    if (const auto p = s.find("pattern"); p != s.end()) {
      // libstdc++'s regex matcher recurses per character: a hostile megabyte-long string
      // would overflow the stack, so long strings are refused before matching.
      if (str.size() > kMaxPatternInput)
        return fail("longer than " + std::to_string(kMaxPatternInput) + " bytes");
      if (!std::regex_search(str, compiled(p->get<std::string>())))
        return fail("does not match " + p->dump());
    }
  }
  if (v.is_array()) {
    if (const auto m = s.find("minItems"); m != s.end() && v.size() < m->get<std::size_t>())
      return fail("fewer than " + m->dump() + " items");
    if (const auto items = s.find("items"); items != s.end())
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto e = validate(*items, v[i], at + "/" + std::to_string(i))) return e;
  }
  if (v.is_object()) {
    if (const auto r = s.find("required"); r != s.end())
      for (const auto& name : *r)
        if (!v.contains(name.get<std::string>()))
          return fail("missing required \"" + name.get<std::string>() + "\"");
    const auto props = s.find("properties");
    for (const auto& [key, value] : v.items()) {
      const bool declared = props != s.end() && props->contains(key);
      if (declared) {
        if (auto e = validate((*props)[key], value, at + "/" + pointer_token(key))) return e;
      } else if (s.value("additionalProperties", true) == false) {
        return fail("unexpected property \"" + key + "\"");
      }
    }
  }
  if (const auto all = s.find("allOf"); all != s.end())
    for (const auto& sub : *all)
      if (auto e = validate(sub, v, at)) return e;
  if (const auto cond = s.find("if"); cond != s.end()) {
    const bool holds = !validate(*cond, v, at).has_value();
    const auto branch = s.find(holds ? "then" : "else");
    if (branch != s.end())
      if (auto e = validate(*branch, v, at)) return e;
  }
  return std::nullopt;
}

}  // namespace

JsonSchema::JsonSchema(json schema) : schema_(std::move(schema)) { check_keywords(schema_, ""); }

std::optional<std::string> JsonSchema::first_error(const json& doc) const {
  return validate(schema_, doc, "");
}

}  // namespace cnm
