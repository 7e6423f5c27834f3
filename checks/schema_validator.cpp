#include "checks/schema_validator.h"

// <stdexcept> before valijson: its exceptions.hpp includes it inside namespace valijson, which
// only works when the header guard has already been passed.
#include <charconv>
#include <stdexcept>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

namespace cnm {
namespace {

using nlohmann::json;

constexpr const char* kDraft7 = "http://json-schema.org/draft-07/schema#";
constexpr std::size_t kMaxQuotedValue = 64;  // bytes of a string value shown in an error

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

bool too_long(const json& v) {
  return v.is_string() && v.get_ref<const std::string&>().size() > kMaxCheckedStringBytes;
}

std::string longer_than_bound(const std::string& pointer) {
  return (pointer.empty() ? "/" : pointer) + ": longer than " +
         std::to_string(kMaxCheckedStringBytes) + " bytes";
}

// The first string over kMaxCheckedStringBytes, walked without recursion (a hostile document
// nests arrays 100000 deep) and with the path kept as the stack of open containers.
std::optional<std::string> overlong_string(const json& doc) {
  if (too_long(doc)) return longer_than_bound("");
  struct Open {
    const json* node;
    json::const_iterator at;
    std::size_t index;
  };
  std::vector<Open> path;
  if (doc.is_structured() && !doc.empty()) path.push_back({&doc, doc.cbegin(), 0});
  while (!path.empty()) {
    Open& open = path.back();
    if (open.at == open.node->cend()) {
      path.pop_back();
      if (!path.empty()) ++path.back().at, ++path.back().index;
      continue;
    }
    const json& child = *open.at;
    if (too_long(child)) {
      std::string pointer;
      for (const auto& o : path)
        pointer +=
            "/" + (o.node->is_object() ? pointer_token(o.at.key()) : std::to_string(o.index));
      return longer_than_bound(pointer);
    }
    if (child.is_structured() && !child.empty()) {
      path.push_back({&child, child.cbegin(), 0});
      continue;
    }
    ++open.at, ++open.index;
  }
  return std::nullopt;
}

// valijson names the failing node by steps "<root>", "[name]", "[index]"; its first error is the
// innermost one (the enclosing nodes' "Failed to validate against schema associated with ..."
// follow it). Said as "POINTER: description (got VALUE)", the value only for a scalar, quoted
// as ASCII JSON and cut short: it comes from a hostile file and ends up on a terminal.
std::string describe(const valijson::ValidationResults::Error& error, const json& doc) {
  std::string pointer;
  const json* node = &doc;
  for (std::size_t i = 1; i < error.context.size(); ++i) {
    const std::string& step = error.context[i];
    const std::string name = step.size() >= 2 ? step.substr(1, step.size() - 2) : step;
    pointer += "/" + pointer_token(name);
    if (node != nullptr && node->is_object()) {
      const auto it = node->find(name);
      node = it == node->end() ? nullptr : &*it;
    } else if (node != nullptr && node->is_array()) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
      node = ec == std::errc() && index < node->size() ? &(*node)[index] : nullptr;
    } else {
      node = nullptr;
    }
  }
  std::string what = error.description;
  if (!what.empty() && what.back() == '.') what.pop_back();
  if (node != nullptr && node->is_primitive()) {
    const bool cut =
        node->is_string() && node->get_ref<const std::string&>().size() > kMaxQuotedValue;
    const json shown =
        cut ? json(node->get_ref<const std::string&>().substr(0, kMaxQuotedValue)) : *node;
    what +=
        " (got " + shown.dump(-1, ' ', true, json::error_handler_t::replace) + (cut ? "...)" : ")");
  }
  return (pointer.empty() ? "/" : pointer) + ": " + what;
}

}  // namespace

struct SchemaValidator::Impl {
  valijson::Schema schema;
  valijson::Validator validator;  // strong types: "1" is no number
};

SchemaValidator::SchemaValidator(const json& schema) : impl_(std::make_unique<Impl>()) {
  if (!schema.is_object() || !schema.contains("$schema") || schema["$schema"] != kDraft7)
    throw std::invalid_argument(std::string("schema: \"$schema\" must be \"") + kDraft7 +
                                "\", the newest draft valijson implements");
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(valijson::adapters::NlohmannJsonAdapter(schema), impl_->schema);
  } catch (const std::exception& e) {  // valijson's runtime_error or logic_error
    throw std::invalid_argument(std::string("schema: ") + e.what());
  }
}

SchemaValidator::~SchemaValidator() = default;

std::optional<std::string> SchemaValidator::first_error(const json& doc) const {
  if (auto e = overlong_string(doc)) return e;
  valijson::ValidationResults results;
  if (impl_->validator.validate(impl_->schema, valijson::adapters::NlohmannJsonAdapter(doc),
                                &results))
    return std::nullopt;
  valijson::ValidationResults::Error first;
  if (!results.popError(first)) return "/: not valid";  // valijson always says why; in case not
  return describe(first, doc);
}

}  // namespace cnm
