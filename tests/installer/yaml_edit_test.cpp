// yaml_set on real, hostile-looking files: only the intended bytes change, and anything the
// editor cannot handle safely is refused with a position and no output.
#include "installer/yaml_edit.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/installer/viper_lookup.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

const std::vector<std::string> kNet = {"network_config", "enabled"};

std::string example() {
  return test::read_file(test::source_dir() / "installer/dist/system-probe.yaml.example");
}

TEST(YamlEdit, ExampleConfigChangesOnlyTheEnabledLine) {
  const auto before = example();
  ASSERT_NE(before.find("  enabled: false\n"), std::string::npos);
  const auto after = yaml_set(before, kNet, "true");
  std::string expected = before;
  const auto at = expected.find("network_config:");
  expected.replace(expected.find("  enabled: false\n", at), 17, "  enabled: true\n");
  EXPECT_EQ(after, expected);
  EXPECT_EQ(YAML::Load(after)["network_config"]["enabled"].as<bool>(), true);
}

TEST(YamlEdit, OldAgentKeyInsertedUnderCommentedSection) {
  const auto before = example();
  const auto after = yaml_set(before, {"system_probe_config", "enabled"}, "true");
  std::string expected = before;
  const std::string key = "\nsystem_probe_config:\n";
  expected.insert(expected.find(key) + key.size(), "  enabled: true\n");
  EXPECT_EQ(after, expected);
}

TEST(YamlEdit, SecondSetIsANoOp) {
  const auto once = yaml_set(example(), kNet, "true");
  EXPECT_EQ(yaml_set(once, kNet, "true"), once);
}

TEST(YamlEdit, MissingSectionAppendedAtTheEnd) {
  const std::string before = "# my agent\napi_key: abc # secret\nlogs: {a: 1}\n";
  EXPECT_EQ(yaml_set(before, kNet, "true"), before + "network_config:\n  enabled: true\n");
}

TEST(YamlEdit, EmptyFile) {
  EXPECT_EQ(yaml_set("", kNet, "true"), "network_config:\n  enabled: true\n");
}

TEST(YamlEdit, NoTrailingNewline) {
  EXPECT_EQ(yaml_set("a: 1", kNet, "true"), "a: 1\nnetwork_config:\n  enabled: true\n");
  EXPECT_EQ(yaml_set("network_config:\n  enabled: false", kNet, "true"),
            "network_config:\n  enabled: true");
}

TEST(YamlEdit, CrlfKeptAndUsedForNewLines) {
  const std::string before = "a: 1\r\nnetwork_config:\r\n  # c\r\n  x: 2\r\n";
  EXPECT_EQ(yaml_set(before, kNet, "true"),
            "a: 1\r\nnetwork_config:\r\n  enabled: true\r\n  # c\r\n  x: 2\r\n");
  EXPECT_EQ(yaml_set("network_config:\r\n  enabled: false  # off\r\n", kNet, "true"),
            "network_config:\r\n  enabled: true  # off\r\n");
}

TEST(YamlEdit, TrailingCommentAndQuotesKept) {
  EXPECT_EQ(yaml_set("network_config:\n  enabled: \"no\"   # why\n", kNet, "true"),
            "network_config:\n  enabled: true   # why\n");
  EXPECT_EQ(yaml_set("network_config:\n  enabled: 'it''s'\n", kNet, "true"),
            "network_config:\n  enabled: true\n");
}

TEST(YamlEdit, FlowStyleEditedInPlace) {
  EXPECT_EQ(yaml_set("network_config: {enabled: false, x: 1} # c\n", kNet, "true"),
            "network_config: {enabled: true, x: 1} # c\n");
  EXPECT_EQ(yaml_set("network_config: {x: 1}\n", kNet, "true"),
            "network_config: {x: 1, enabled: true}\n");
  EXPECT_EQ(yaml_set("network_config: {}\n", kNet, "true"), "network_config: {enabled: true}\n");
}

// A quote inside a plain scalar is a character, not the start of a quoted one (YAML 1.2, 7.3.3);
// a trailing ',' and comments inside a multi-line flow mapping are valid YAML too.
TEST(YamlEdit, FlowMappingPlainQuotesTrailingCommaAndComments) {
  EXPECT_EQ(yaml_set("network_config: {a: it's, b: 1}\n", kNet, "true"),
            "network_config: {a: it's, b: 1, enabled: true}\n");
  EXPECT_EQ(yaml_set("network_config: {a: b:c, d: a 'b, e: x\"y}\n", kNet, "true"),
            "network_config: {a: b:c, d: a 'b, e: x\"y, enabled: true}\n");
  EXPECT_EQ(yaml_set("network_config: {a: \"x}'\", b: 'y''}'}\n", kNet, "true"),
            "network_config: {a: \"x}'\", b: 'y''}', enabled: true}\n");
  EXPECT_EQ(yaml_set("network_config: {foo: 1, }\n", kNet, "true"),
            "network_config: {foo: 1, enabled: true }\n");
  EXPECT_EQ(yaml_set("network_config: {\n  foo: 1, # c } it's\n}\n", kNet, "true"),
            "network_config: {\n  foo: 1, enabled: true # c } it's\n}\n");
  EXPECT_EQ(yaml_set("network_config: {\n  foo: 1 # c\n}\n", kNet, "true"),
            "network_config: {\n  foo: 1, enabled: true # c\n}\n");
  EXPECT_EQ(yaml_set("network_config: { # c\n}\n", kNet, "true"),
            "network_config: {enabled: true # c\n}\n");
  EXPECT_EQ(yaml_set("network_config: {a: {b: 1}, c: [x, y] }\n", kNet, "true"),
            "network_config: {a: {b: 1}, c: [x, y], enabled: true }\n");
  EXPECT_EQ(yaml_set("network_config: {a: &x it's, b: *x}\n", kNet, "true"),
            "network_config: {a: &x it's, b: *x, enabled: true}\n");
}

TEST(YamlEdit, AnchorKeptAliasRefused) {
  EXPECT_EQ(yaml_set("network_config:\n  enabled: &e false\nother: 1\n", kNet, "true"),
            "network_config:\n  enabled: &e true\nother: 1\n");
  try {
    yaml_set("base: &b false\nnetwork_config:\n  enabled: *b\n", kNet, "true");
    FAIL() << "alias edited";
  } catch (const YamlEditError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("alias"), std::string::npos);
  }
}

TEST(YamlEdit, MergeKeyDocumentKeepsOtherLines) {
  const std::string before =
      "defaults: &d\n  log_level: info\nnetwork_config:\n  <<: *d\n  enabled: false\n";
  EXPECT_EQ(yaml_set(before, kNet, "true"),
            "defaults: &d\n  log_level: info\nnetwork_config:\n  <<: *d\n  enabled: true\n");
}

// The Agent's reader (go-yaml v2) applies merge keys in order, each overwriting the keys before
// it; yaml-cpp does not merge. An edit that a later "<<" may undo, or a key added to a mapping
// that merges another (which may hold it, or hold the whole mapping the key would replace), is
// refused at the "<<", the file untouched.
TEST(YamlEdit, EditsAMergeKeyMayUndoAreRefusedAtTheMerge) {
  const std::pair<std::string, int> cases[] = {
      // the key would be added before the merge, which holds enabled: false
      {"base: &base\n  enabled: false\n  dns_monitoring: true\nnetwork_config:\n  <<: *base\n", 5},
      // the key is set, but a merge after it comes later
      {"b: &b\n  enabled: false\nnetwork_config:\n  enabled: false\n  <<: *b\n", 5},
      // a merge after the parent, at the root, may replace the whole of network_config
      {"d: &d\n  network_config: {enabled: false}\nnetwork_config:\n  enabled: false\n<<: *d\n", 5},
      // network_config would be added to a root that merges one in
      {"d: &d\n  network_config:\n    dns_monitoring: true\n<<: *d\n", 4},
  };
  for (const auto& [text, line] : cases) {
    try {
      yaml_set(text, kNet, "true");
      FAIL() << "edited: " << text;
    } catch (const YamlEditError& e) {
      EXPECT_EQ(e.line(), line) << text;
      EXPECT_NE(std::string(e.what()).find("merge key ('<<')"), std::string::npos) << e.what();
    }
  }
  // A quoted "<<" is an ordinary key.
  EXPECT_EQ(yaml_set("network_config:\n  \"<<\": x\n", kNet, "true"),
            "network_config:\n  enabled: true\n  \"<<\": x\n");
}

// yaml-cpp does not count a UTF-8 byte order mark in line 1's columns: edits there land where
// they belong, and the mark stays.
TEST(YamlEdit, ByteOrderMarkKeepsLineOneEditable) {
  const std::string bom = "\xef\xbb\xbf";
  EXPECT_EQ(yaml_set(bom + "network_config: {enabled: false}\n", kNet, "true"),
            bom + "network_config: {enabled: true}\n");
  EXPECT_EQ(yaml_set(bom + "network_config.enabled: false\n", kNet, "true"),
            bom + "network_config.enabled: true\n");
  EXPECT_EQ(yaml_set(bom + "network_config:\n  enabled: false\n", kNet, "true"),
            bom + "network_config:\n  enabled: true\n");
  EXPECT_EQ(yaml_set(bom + "a: 1\n", kNet, "true"),
            bom + "a: 1\nnetwork_config:\n  enabled: true\n");
}

// A value written as an alias is refused at its key, whatever the alias names (a mapping, a null).
TEST(YamlEdit, ParentsWrittenAsAliasesAreRefusedByName) {
  for (const std::string text :
       {"base: &base\n  enabled: false\nnetwork_config: *base\n", "x: &n\nnetwork_config: *n\n"}) {
    try {
      yaml_set(text, kNet, "true");
      FAIL() << "edited: " << text;
    } catch (const YamlEditError& e) {
      EXPECT_NE(std::string(e.what()).find("'network_config' is an alias"), std::string::npos)
          << e.what();
      EXPECT_GT(e.line(), 1) << e.what();
    }
  }
}

// A document end marker ("...") closes the document: a key added to the root goes before it.
TEST(YamlEdit, KeysGoBeforeTheDocumentEndMarker) {
  EXPECT_EQ(yaml_set("system_probe_config:\n  log_level: info\n...\n", kNet, "true"),
            "system_probe_config:\n  log_level: info\nnetwork_config:\n  enabled: true\n...\n");
  EXPECT_EQ(yaml_set("# only a comment\n... # end\n\n# after\n", kNet, "true"),
            "# only a comment\nnetwork_config:\n  enabled: true\n... # end\n\n# after\n");
}

TEST(YamlEdit, TabsInCommentsAndValuesKept) {
  const std::string before = "network_config:\n  enabled:\tfalse\t# tab\n\t# tab comment\n";
  EXPECT_EQ(yaml_set(before, kNet, "true"),
            "network_config:\n  enabled:\ttrue\t# tab\n\t# tab comment\n");
}

TEST(YamlEdit, DuplicateKeysRefusedWithPosition) {
  try {
    yaml_set("network_config:\n  enabled: false\nnetwork_config:\n  enabled: true\n", kNet, "true");
    FAIL() << "duplicate accepted";
  } catch (const YamlEditError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 1);
    EXPECT_NE(std::string(e.what()).find("duplicate"), std::string::npos);
  }
}

TEST(YamlEdit, MalformedRefusedWithLineAndColumn) {
  try {
    yaml_set("a: 1\nnetwork_config:\n  enabled: [true\n", kNet, "true");
    FAIL() << "malformed accepted";
  } catch (const YamlEditError& e) {
    EXPECT_GE(e.line(), 3);
    EXPECT_GT(e.column(), 0);
    EXPECT_NE(std::string(e.what()).find("malformed"), std::string::npos);
  }
}

TEST(YamlEdit, TabIndentationRefused) {
  EXPECT_THROW(yaml_set("network_config:\n\tenabled: false\n", kNet, "true"), YamlEditError);
}

TEST(YamlEdit, NonUtf8BytesSurvive) {
  const std::string before =
      "# caf\xe9 \xff\xfe\nname: \"x\xe9\"\nnetwork_config:\n  enabled: false\n";
  EXPECT_EQ(yaml_set(before, kNet, "true"),
            "# caf\xe9 \xff\xfe\nname: \"x\xe9\"\nnetwork_config:\n  enabled: true\n");
  // Invalid bytes earlier on the same line must not shift the splice.
  EXPECT_EQ(yaml_set("network_config: {a: \xe9\xe9, enabled: false}\n", kNet, "true"),
            "network_config: {a: \xe9\xe9, enabled: true}\n");
}

TEST(YamlEdit, WrongShapesRefused) {
  EXPECT_THROW(yaml_set("network_config: true\n", kNet, "true"), YamlEditError);
  EXPECT_THROW(yaml_set("network_config:\n  - enabled\n", kNet, "true"), YamlEditError);
  EXPECT_THROW(yaml_set("network_config:\n  enabled: |\n    x\n", kNet, "true"), YamlEditError);
  EXPECT_THROW(yaml_set("- a\n- b\n", kNet, "true"), YamlEditError);
  EXPECT_THROW(yaml_set("a: 1\n---\nb: 2\n", kNet, "true"), YamlEditError);
  EXPECT_THROW(yaml_set("a: 1\n", kNet, "x: y"), YamlEditError);
  EXPECT_THROW(yaml_set("a: 1\n", kNet, "true # c"), YamlEditError);
}

TEST(YamlEdit, NullValuesFilled) {
  EXPECT_EQ(yaml_set("network_config:\n  enabled:\n", kNet, "true"),
            "network_config:\n  enabled: true\n");
  EXPECT_EQ(yaml_set("network_config:\n  enabled: ~\n", kNet, "true"),
            "network_config:\n  enabled: true\n");
  EXPECT_EQ(yaml_set("network_config: # soon\nx: 1\n", kNet, "true"),
            "network_config: # soon\n  enabled: true\nx: 1\n");
}

TEST(YamlEdit, DeeperPathsCreated) {
  EXPECT_EQ(yaml_set("network_config:\n  enabled: true\n", {"network_config", "dns", "on"}, "1"),
            "network_config:\n  dns:\n    on: 1\n  enabled: true\n");
}

// Provisioning scripts append keys in dotted form (`echo "network_config.enabled: false" >>`);
// the Agent reads such a key as the nested one and prefers it, so it is the one to edit.
TEST(YamlEdit, DottedKeyEditedInPlace) {
  const std::string before = "# from provisioning\nnetwork_config.enabled: false  # by script\n";
  const auto after = yaml_set(before, kNet, "true");
  EXPECT_EQ(after, "# from provisioning\nnetwork_config.enabled: true  # by script\n");
  EXPECT_FALSE(test::agent_reads(before, kNet, "true"));
  EXPECT_TRUE(test::agent_reads(after, kNet, "true"));
  EXPECT_EQ(yaml_set(after, kNet, "true"), after);
  EXPECT_EQ(
      yaml_set("system_probe_config.enabled: false\n", {"system_probe_config", "enabled"}, "true"),
      "system_probe_config.enabled: true\n");
}

TEST(YamlEdit, EverySpellingSet) {
  const std::string before =
      "network_config:\n  enabled: false\n  x: 1\nnetwork_config.enabled: no # old\n";
  const auto after = yaml_set(before, kNet, "true");
  EXPECT_EQ(after,
            "network_config:\n  enabled: true\n  x: 1\nnetwork_config.enabled: true # old\n");
  EXPECT_TRUE(test::agent_reads(after, kNet, "true"));
  // Dotted keys at any level, for a longer --set path.
  const std::vector<std::string> p = {"a", "b", "c"};
  const std::string deep = "a:\n  b.c: 1\n  b:\n    c: 1\na.b:\n  c: 1\na.b.c: 1\n";
  const auto set = yaml_set(deep, p, "2");
  EXPECT_EQ(set, "a:\n  b.c: 2\n  b:\n    c: 2\na.b:\n  c: 2\na.b.c: 2\n");
  EXPECT_TRUE(test::agent_reads(set, p, "2"));
  EXPECT_EQ(yaml_set("a: {b.c: 1}\n", p, "2"), "a: {b.c: 2}\n");
}

TEST(YamlEdit, DottedParentMappingReceivesNewKey) {
  const std::vector<std::string> p = {"network_config", "dns", "on"};
  const auto after = yaml_set("network_config.dns:\n  x: 1\n", p, "true");
  EXPECT_EQ(after, "network_config.dns:\n  on: true\n  x: 1\n");
  EXPECT_TRUE(test::agent_reads(after, p, "true"));
}

// A value where a parent is expected shadows the path for nodetreemodel (leaf against mapping):
// refused, whatever its spelling.
TEST(YamlEdit, ScalarParentRefusedInAnySpelling) {
  for (const auto* text : {"a.b: 1\n", "a:\n  b: 1\n", "A.B: 1\n", "a: [1]\n"}) {
    try {
      yaml_set(text, {"a", "b", "c"}, "2");
      FAIL() << text;
    } catch (const YamlEditError& e) {
      EXPECT_NE(std::string(e.what()).find("is not a mapping"), std::string::npos) << e.what();
      EXPECT_GT(e.line(), 0) << text;
    }
  }
}

// The Agent lowercases keys: "Network_Config" is network_config.
TEST(YamlEdit, KeysMatchedCaseInsensitively) {
  EXPECT_EQ(yaml_set("Network_Config:\n  Enabled: false\n", kNet, "true"),
            "Network_Config:\n  Enabled: true\n");
  const auto after = yaml_set("Network_Config:\n  x: 1\n", kNet, "true");
  EXPECT_EQ(after, "Network_Config:\n  enabled: true\n  x: 1\n");
  EXPECT_TRUE(test::agent_reads(after, kNet, "true"));
  EXPECT_EQ(yaml_set("NETWORK_CONFIG.ENABLED: false\n", kNet, "true"),
            "NETWORK_CONFIG.ENABLED: true\n");
}

TEST(YamlEdit, KeysDifferingInCaseAreDuplicates) {
  for (const auto* text : {"network_config:\n  enabled: false\nNetwork_Config:\n  enabled: true\n",
                           "network_config:\n  enabled: false\n  Enabled: true\n"}) {
    try {
      yaml_set(text, kNet, "true");
      FAIL() << text;
    } catch (const YamlEditError& e) {
      EXPECT_NE(std::string(e.what()).find("duplicate key"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("case-insensitively"), std::string::npos) << e.what();
    }
    EXPECT_THROW(yaml_validate(text), YamlEditError);
  }
}

TEST(YamlEdit, NullParentFilled) {
  EXPECT_EQ(yaml_set("network_config: null\nx: 1\n", kNet, "true"),
            "network_config:\n  enabled: true\nx: 1\n");
  EXPECT_EQ(yaml_set("network_config: ~   # later\n", kNet, "true"),
            "network_config:    # later\n  enabled: true\n");
  EXPECT_EQ(yaml_set("network_config.dns: NULL\n", {"network_config", "dns", "on"}, "1"),
            "network_config.dns:\n  on: 1\n");
  EXPECT_EQ(yaml_set("network_config: {dns: ~, x: 1}\n", {"network_config", "dns", "on"}, "1"),
            "network_config: {dns: {on: 1}, x: 1}\n");
  // A null spelling beside a set one is filled too, so no reader finds it null.
  const auto both = yaml_set("network_config:\nnetwork_config.enabled: false\n", kNet, "true");
  EXPECT_EQ(both, "network_config:\n  enabled: true\nnetwork_config.enabled: true\n");
  EXPECT_TRUE(test::agent_reads(both, kNet, "true"));
}

TEST(YamlEdit, ValuesWrittenSoTheyReadBackAsGiven) {
  // YAML-typed values stay as given.
  for (const auto* v :
       {"true", "8080", "1.5", "/var/log/x.log", "maybe", "'it''s'", "\"a b\"", "null", "a:b"})
    EXPECT_EQ(yaml_scalar_text(v), v);
  // Anything else becomes the string it spells.
  EXPECT_EQ(yaml_scalar_text("|"), "\"|\"");
  EXPECT_EQ(yaml_scalar_text("a: b"), "\"a: b\"");
  EXPECT_EQ(yaml_scalar_text("x # y"), "\"x # y\"");
  EXPECT_EQ(yaml_scalar_text("say \"hi\"\t"), "\"say \\\"hi\\\"\\x09\"");
  for (const auto* v : {"|", ">", "&a x", "*a", "!!str 1", " x", "x ", "a,b", "\"x\" # c", "-",
                        "@x", "---", "a\\b\"", "\"unterminated"}) {
    const auto text = yaml_scalar_text(v);
    const auto after = yaml_set("network_config:\n  x: 1\n", {"network_config", "x"}, text);
    EXPECT_EQ(YAML::Load(after)["network_config"]["x"].Scalar(), v) << after;
  }
  EXPECT_THROW(yaml_scalar_text("[1, 2]"), YamlEditError);
  EXPECT_THROW(yaml_scalar_text("{a: 1}"), YamlEditError);
  // Words the Agent's YAML 1.1 reader takes for booleans or octal numbers, where YAML 1.2 reads
  // the text: refused, with how to write either (log_level: off would stop the Agent).
  for (const auto* v : {"off", "OFF", "On", "yes", "No", "y", "N", "0755", "-012"}) {
    try {
      yaml_scalar_text(v);
      FAIL() << "written plain: " << v;
    } catch (const YamlEditError& e) {
      EXPECT_NE(std::string(e.what()).find("quote it ('\"" + std::string(v) + "\"')"),
                std::string::npos)
          << e.what();
    }
  }
  for (const auto* v : {"\"off\"", "'yes'", "0", "10", "0.5", "offline", "y2"})
    EXPECT_EQ(yaml_scalar_text(v), v);
  EXPECT_THROW(yaml_set("a: 1\n", kNet, "|"), YamlEditError);
  EXPECT_THROW(yaml_set("a: 1\n", kNet, "'a' # c"), YamlEditError);
}

TEST(YamlEdit, KeyPaths) {
  EXPECT_EQ(split_key_path("a.b_c.d-e"), (std::vector<std::string>{"a", "b_c", "d-e"}));
  EXPECT_THROW(split_key_path("a..b"), YamlEditError);
  EXPECT_THROW(split_key_path(""), YamlEditError);
  EXPECT_THROW(split_key_path("a.b:c"), YamlEditError);
}

}  // namespace
}  // namespace cnm
