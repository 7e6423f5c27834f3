#include "common/yaml_load.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>
#include <unordered_map>

namespace cnm {
namespace {

// Counts nodes as an expanded tree would hold them: an alias counts the size of its anchor's
// node (known when the anchored node ends), collections add up their children.
class BudgetCounter : public YAML::EventHandler {
 public:
  explicit BudgetCounter(const YamlBudget& b) : budget_(b) {}

  void OnDocumentStart(const YAML::Mark&) override { open_.clear(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor, 1); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    const auto it = sizes_.find(anchor);
    leaf(m, 0, it == sizes_.end() ? 1 : it->second);
  }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(m, anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t nodes;  // itself and what it holds so far, expanded
  };

  void add(const YAML::Mark& m, std::size_t n) {
    total_ += n;
    if (total_ > budget_.max_nodes)
      throw YamlBudgetError("the document stands for more than " +
                                std::to_string(budget_.max_nodes) +
                                " nodes once its aliases are expanded (nested aliases, a "
                                "\"billion laughs\"?); refusing to process it",
                            m.line + 1, m.column + 1);
  }
  void leaf(const YAML::Mark& m, YAML::anchor_t anchor, std::size_t n) {
    add(m, n);
    if (anchor) sizes_[anchor] = n;
    if (!open_.empty()) open_.back().nodes += n;
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    if (open_.size() >= budget_.max_depth)
      throw YamlBudgetError("nested deeper than " + std::to_string(budget_.max_depth) +
                                " levels; refusing to process it",
                            m.line + 1, m.column + 1);
    add(m, 1);
    open_.push_back({anchor, 1});
  }
  void close() {
    if (open_.empty()) return;
    const Open done = open_.back();
    open_.pop_back();
    if (done.anchor) sizes_[done.anchor] = done.nodes;
    if (!open_.empty()) open_.back().nodes += done.nodes;
  }

  YamlBudget budget_;
  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> sizes_;
  std::size_t total_ = 0;
};

}  // namespace

void check_yaml_budget(std::string_view text, const YamlBudget& budget) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  BudgetCounter counter(budget);
  while (parser.HandleNextDocument(counter)) {
  }
}

YAML::Node load_yaml(std::string_view text, const YamlBudget& budget) {
  check_yaml_budget(text, budget);
  return YAML::Load(std::string(text));
}

std::vector<YAML::Node> load_all_yaml(std::string_view text, const YamlBudget& budget) {
  check_yaml_budget(text, budget);
  return YAML::LoadAll(std::string(text));
}

}  // namespace cnm
