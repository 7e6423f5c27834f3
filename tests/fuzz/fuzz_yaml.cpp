// libFuzzer target for every YAML loading path: the bounded loader, `config enable`'s in-place
// edit (yaml_set), cnm-probe's config and the layout's keys. Each must return a value or a
// refusal without crashing, and without walking more than the budget (aliases included): the
// fuzzer's -timeout catches any expansion that escapes it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/layout.h"
#include "common/yaml_load.h"
#include "installer/yaml_edit.h"
#include "probe/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)cnm::load_yaml(text);
  } catch (const std::exception&) {
  }
  try {
    (void)cnm::yaml_set(text, {"network_config", "enabled"}, "true");
  } catch (const cnm::YamlEditError&) {
  }
  // A --set value as config enable writes it: whatever yaml_scalar_text returns must be a value
  // yaml_set accepts and reads back as the input.
  std::string value;
  try {
    value = cnm::yaml_scalar_text(text.substr(0, 64));
  } catch (const cnm::YamlEditError&) {
  }
  if (!value.empty()) {
    try {
      (void)cnm::yaml_set("a: 1\n", {"a"}, value);
    } catch (const cnm::YamlEditError&) {
      __builtin_trap();
    }
  }
  try {
    (void)cnm::probe::parse_config(text, "fuzz.yaml", cnm::default_layout("/"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
