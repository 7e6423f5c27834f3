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
  try {
    (void)cnm::probe::parse_config(text, "fuzz.yaml", cnm::default_layout("/"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
