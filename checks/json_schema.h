// Checks a JSON document against a JSON Schema (draft 2020-12), limited to the keywords cnmkit's
// own schemas use: type, const, enum, required, properties, additionalProperties (boolean),
// items, minItems, minLength, pattern, allOf, if/then/else, and the annotations ($schema, $id,
// title, description). Debian 12 packages no C++ JSON Schema validator; this one refuses, when
// it loads a schema, any keyword it does not implement, so a schema that grows a new keyword
// fails loudly instead of being half-checked.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace cnm {

class JsonSchema {
 public:
  // Throws std::invalid_argument naming the JSON pointer of an unsupported keyword.
  explicit JsonSchema(nlohmann::json schema);

  // The first violation as "JSON-POINTER: what is wrong", or nullopt when the document is valid.
  std::optional<std::string> first_error(const nlohmann::json& doc) const;

 private:
  nlohmann::json schema_;
};

}  // namespace cnm
