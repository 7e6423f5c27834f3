// Loading YAML with bounded work, for every YAML file cnmkit reads (system-probe.yaml in
// `config enable` and in cnm-probe --config, the layout file). yaml-cpp shares an aliased node
// rather than copying it, so loading a "billion laughs" file is cheap, but every walk over the
// tree (ours: duplicate keys, comparisons, lookups) visits each alias as if expanded: 553 bytes
// of nested aliases stand for a billion nodes. A first pass over the parser's events (linear in
// the text, nothing expanded) counts what the document stands for with its aliases expanded,
// and how deep it nests; over the budget, the file is refused with the position where it went
// over. Only then is it loaded.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cnm {

struct YamlBudget {
  // Nodes the documents stand for with every alias expanded (a 20,000-key file is 40,000).
  std::size_t max_nodes = 200000;
  std::size_t max_depth = 64;  // nested collections
};

// A refusal, with the 1-based place in the text.
class YamlBudgetError : public std::runtime_error {
 public:
  YamlBudgetError(const std::string& what, int line, int column)
      : std::runtime_error(what), line_(line), column_(column) {}
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_, column_;
};

// Throws YamlBudgetError over the budget, YAML::Exception (with its mark) on malformed text.
void check_yaml_budget(std::string_view text, const YamlBudget& budget = {});
// check_yaml_budget, then YAML::Load / YAML::LoadAll.
YAML::Node load_yaml(std::string_view text, const YamlBudget& budget = {});
std::vector<YAML::Node> load_all_yaml(std::string_view text, const YamlBudget& budget = {});

}  // namespace cnm
