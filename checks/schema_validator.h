// Checks JSON documents against a JSON Schema (draft 7) with valijson (Debian's libvalijson-dev).
// valijson is included by schema_validator.cpp alone, so only the fleet report's code carries
// it: the preflight, which runs on every host, never builds or touches a validator.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace cnm {

// Longest string a checked document may hold. valijson matches "pattern" with std::regex, whose
// libstdc++ matcher recurses once per character: a ~28 KB string overflows an 8 MiB stack, so
// longer strings are refused before valijson sees them. A real preflight report's longest
// string is under 200 bytes.
inline constexpr std::size_t kMaxCheckedStringBytes = 4096;

class SchemaValidator {
 public:
  // Throws std::invalid_argument when the schema does not declare draft 7 in "$schema" (valijson
  // implements drafts 3, 4 and 7 and ignores "$schema": a 2020-12 schema would be checked by
  // draft 7's rules without a word) or when valijson cannot parse it.
  explicit SchemaValidator(const nlohmann::json& schema);
  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // The first violation as "JSON-POINTER: what is wrong", the offending value quoted when it is
  // a scalar, or nullopt when the document is valid. Not thread-safe (compiled patterns are
  // cached).
  std::optional<std::string> first_error(const nlohmann::json& doc) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnm
