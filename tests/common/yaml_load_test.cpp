// YAML loading with bounded work: aliases counted as if expanded (a "billion laughs" file is
// refused before anything walks it), nesting bounded, plain large files accepted.
#include "common/yaml_load.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/layout.h"
#include "tests/support/test_support.h"

namespace cnm {

// Nine levels of nine aliases each: 553 bytes that stand for 10^9 nodes.
std::string billion_laughs() {
  std::string y =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char p = static_cast<char>(c - 1);
    y += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) y += std::string(i ? ",*" : "*") + p;
    y += "]\n";
  }
  return y;
}

namespace {

TEST(YamlBudget, BillionLaughsIsRefusedWithThePlaceItWentOver) {
  try {
    load_yaml(billion_laughs());
    FAIL() << "accepted";
  } catch (const YamlBudgetError& e) {
    EXPECT_GT(e.line(), 1);
    EXPECT_NE(std::string(e.what()).find("aliases"), std::string::npos) << e.what();
  }
}

TEST(YamlBudget, SmallAliasesAndLargePlainFilesPass) {
  EXPECT_NO_THROW(load_yaml("base: &b {x: 1}\nother: *b\nmore: *b\n"));
  std::string big;
  for (int i = 0; i < 20000; ++i)
    big += "key_" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  EXPECT_EQ(load_yaml(big).size(), 20000u);
}

TEST(YamlBudget, DeepNestingIsRefused) {
  EXPECT_THROW(load_yaml(std::string(100, '[') + std::string(100, ']')), YamlBudgetError);
  EXPECT_NO_THROW(load_yaml(std::string(10, '[') + std::string(10, ']')));
}

TEST(YamlBudget, LayoutFileWithBillionLaughsOrAFifoIsRefused) {
  test::TempDir d;
  test::write_file(d / "layout.yaml", billion_laughs());
  EXPECT_THROW(load_layout(d / "layout.yaml", "/"), std::runtime_error);
  ASSERT_EQ(::mkfifo((d / "fifo.yaml").c_str(), 0644), 0);
  try {
    load_layout(d / "fifo.yaml", "/");
    FAIL() << "a FIFO was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("is a FIFO"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cnm
