// The fleet report (`cnmctl fleet report`): the schema check of its inputs (valijson, against
// Python's jsonschema as a reference), the grouping, the three renderings, and hostile input:
// every bad file is refused with its name and nothing is written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "checks/fleet_report.h"
#include "checks/preflight_schema.h"
#include "checks/schema_validator.h"
#include "tests/checks/host_builder.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

using nlohmann::json;
using test::run;

json preflight_of(const std::string& fixture) {
  const auto r = run({test::cnmctl(), "preflight", "--json", "--root",
                      (test::source_dir() / "tests/checks/hosts" / fixture).string()});
  return json::parse(r.out);
}

const SchemaValidator& schema() {
  static const SchemaValidator s(json::parse(preflight_schema_text()));
  return s;
}

// Python's jsonschema (Debian package) on the same document: the reference implementation.
bool python_says_valid(const json& doc, const std::filesystem::path& schema_file) {
  test::TempDir d;
  test::write_file(d / "doc.json", doc.dump());
  const auto r = run({"/usr/bin/python3", "-c",
                      "import json,sys,jsonschema\n"
                      "s=json.load(open(sys.argv[1]))\n"
                      "sys.exit(0 if jsonschema.validators.validator_for(s)(s).is_valid("
                      "json.load(open(sys.argv[2]))) else 1)\n",
                      schema_file.string(), (d / "doc.json").string()});
  EXPECT_NE(r.exit_code, 2) << r.err;
  return r.exit_code == 0;
}

TEST(FleetReportSchema, AgreesWithPythonsJsonschemaOnRealAndBrokenReports) {
  const json good = preflight_of("centos-7.5");
  std::vector<std::pair<std::string, json>> cases = {{"as is", good}};
  auto mutate = [&](const std::string& name, auto&& change) {
    json d = good;
    change(d);
    cases.emplace_back(name, d);
  };
  mutate("verdict not in enum", [](json& d) { d["verdict"] = "maybe"; });
  mutate("schema_version 2", [](json& d) { d["schema_version"] = 2; });
  mutate("schema_version 1.0", [](json& d) { d["schema_version"] = 1.0; });
  mutate("host missing", [](json& d) { d.erase("host"); });
  mutate("unknown top key", [](json& d) { d["extra"] = 1; });
  mutate("unknown host key", [](json& d) { d["host"]["extra"] = 1; });
  mutate("kernel null", [](json& d) { d["host"]["kernel_release"] = nullptr; });
  mutate("arch null", [](json& d) { d["host"]["arch"] = nullptr; });
  mutate("in_container string", [](json& d) { d["host"]["in_container"] = "no"; });
  mutate("no checks", [](json& d) { d["checks"] = json::array(); });
  mutate("checks object", [](json& d) { d["checks"] = json::object(); });
  mutate("id without dot", [](json& d) { d["checks"][0]["id"] = "kernel"; });
  mutate("id upper case", [](json& d) { d["checks"][0]["id"] = "Kernel.version"; });
  mutate("empty message", [](json& d) { d["checks"][0]["message"] = ""; });
  mutate("one-character message", [](json& d) { d["checks"][0]["message"] = "\xc3\xa9"; });
  mutate("fail without remedy", [](json& d) {
    for (auto& c : d["checks"])
      if (c["status"] == "fail") c["remedy"] = nullptr;
  });
  mutate("pass without remedy", [](json& d) {
    d["checks"][0]["status"] = "pass";
    d["checks"][0]["remedy"] = nullptr;
  });
  mutate("warn with empty remedy", [](json& d) {
    d["checks"][0]["status"] = "warn";
    d["checks"][0]["remedy"] = "";
  });
  mutate("feature number", [](json& d) { d["features"]["dns_resolution"] = 0; });
  mutate("cilium null", [](json& d) { d["features"]["cilium_compatible"] = nullptr; });
  mutate("document is an array", [](json& d) { d = json::array({d}); });
  const auto file = test::source_dir() / "checks/preflight.schema.json";
  for (const auto& [name, doc] : cases)
    EXPECT_EQ(!schema().first_error(doc).has_value(), python_says_valid(doc, file))
        << name << ": " << schema().first_error(doc).value_or("valid");
  EXPECT_FALSE(schema().first_error(good)) << *schema().first_error(good);
}

TEST(FleetReportSchema, SaysWhereAndWhat) {
  json d = preflight_of("debian-9");
  d["checks"][2]["status"] = "maybe";
  EXPECT_EQ(schema().first_error(d).value_or(""),
            "/checks/2/status: Failed to match against any enum values (got \"maybe\")");
  d = preflight_of("debian-9");
  d["host"].erase("arch");
  EXPECT_EQ(schema().first_error(d).value_or(""), "/host: Missing required property 'arch'");
  d = preflight_of("debian-9");
  d["host"]["a/b~c"] = 1;  // named in the message, the pointer escaped
  EXPECT_EQ(schema().first_error(d).value_or(""),
            "/host: Object contains a property that could not be validated using 'properties' "
            "or 'additionalProperties' constraints: 'a/b~c'");
  d = preflight_of("debian-9");
  d["verdict"] = "evil\x1b[31m" + std::string(100, 'x');  // quoted as ASCII JSON, cut short
  EXPECT_EQ(schema().first_error(d).value_or(""),
            "/verdict: Failed to match against any enum values (got \"evil\\u001b[31m" +
                std::string(55, 'x') + "\"...)");
  const std::string too_long = ": longer than " + std::to_string(kMaxCheckedStringBytes) + " bytes";
  d = preflight_of("debian-9");
  d["checks"][0]["id"] = std::string(100000, 'a') + ".b";
  EXPECT_EQ(schema().first_error(d).value_or(""), "/checks/0/id" + too_long)
      << "a hostile id is refused before std::regex (valijson's pattern) recurses through it";
  d = preflight_of("debian-9");
  d["host"]["x"] = json::array({json::object({{"a/b", std::string(5000, 'x')}})});
  EXPECT_EQ(schema().first_error(d).value_or(""), "/host/x/0/a~1b" + too_long);
  d["host"]["x"] = std::string(kMaxCheckedStringBytes, 'x');  // at the bound: the schema decides
  EXPECT_EQ(schema().first_error(d).value_or("").find("longer than"), std::string::npos);
}

// Each kind of constraint preflight.schema.json uses, broken once: valijson refuses the document
// and names the node. Keywords draft 4 lacks (const, if/then) are among them: a validator reading
// the schema as draft 4 would let those documents through.
TEST(FleetReportSchema, RefusesEachKindOfViolation) {
  json good = preflight_of("centos-7.5");  // unsupported: checks fail with remedies
  good["host"]["libc"] = preflight_of("centos-7.6")["host"]["libc"];  // glibc 2.17, found
  ASSERT_TRUE(good["host"]["libc"].is_object());
  ASSERT_FALSE(schema().first_error(good)) << *schema().first_error(good);
  std::size_t failing = 0;
  while (good["checks"][failing]["status"] != "fail") ++failing;
  const std::string f = "/checks/" + std::to_string(failing);
  struct Case {
    std::string name;
    std::function<void(json&)> change;
    std::string error;  // how the message starts
  };
  const std::vector<Case> cases = {
      {"const", [](json& d) { d["schema_version"] = 2; },
       "/schema_version: Failed to match expected value set by 'const' constraint (got 2)"},
      {"required", [](json& d) { d.erase("features"); }, "/: Missing required property 'features'"},
      {"required in an item", [&](json& d) { d["checks"][failing].erase("remedy"); },
       f + ": Missing required property 'remedy'"},
      {"additionalProperties at the top", [](json& d) { d["extra"] = 1; },
       "/: Object contains a property that could not be validated"},
      {"additionalProperties in libc", [](json& d) { d["host"]["libc"]["vendor"] = "x"; },
       "/host/libc: Object contains a property that could not be validated"},
      {"additionalProperties in features", [](json& d) { d["features"]["tls"] = true; },
       "/features: Object contains a property that could not be validated"},
      {"additionalProperties in a check", [](json& d) { d["checks"][0]["extra"] = 1; },
       "/checks/0: Object contains a property that could not be validated"},
      {"enum: verdict", [](json& d) { d["verdict"] = "mixed"; },
       "/verdict: Failed to match against any enum values (got \"mixed\")"},
      {"enum: status", [](json& d) { d["checks"][1]["status"] = "PASS"; },
       "/checks/1/status: Failed to match against any enum values (got \"PASS\")"},
      {"enum: libc name", [](json& d) { d["host"]["libc"]["name"] = "uclibc"; },
       "/host/libc/name: Failed to match against any enum values (got \"uclibc\")"},
      {"pattern: check id", [](json& d) { d["checks"][0]["id"] = "kernel"; },
       "/checks/0/id: Failed to match regex specified by 'pattern' constraint (got \"kernel\")"},
      {"pattern: check id case", [](json& d) { d["checks"][0]["id"] = "Kernel.version"; },
       "/checks/0/id: Failed to match regex specified by 'pattern' constraint"},
      {"pattern: libc version", [](json& d) { d["host"]["libc"]["version"] = "2.17-x"; },
       "/host/libc/version: Failed to match regex specified by 'pattern' constraint"},
      {"type", [](json& d) { d["host"]["in_container"] = "no"; },
       "/host/in_container: Value type not permitted by 'type' constraint (got \"no\")"},
      {"type: array", [](json& d) { d["checks"] = json::object(); },
       "/checks: Value type not permitted by 'type' constraint"},
      {"type: document", [](json& d) { d = json::array({d}); },
       "/: Value type not permitted by 'type' constraint"},
      {"not nullable: arch", [](json& d) { d["host"]["arch"] = nullptr; },
       "/host/arch: Value type not permitted by 'type' constraint (got null)"},
      {"not nullable: feature", [](json& d) { d["features"]["dns_resolution"] = nullptr; },
       "/features/dns_resolution: Value type not permitted by 'type' constraint (got null)"},
      {"nullable, not any type", [](json& d) { d["host"]["kernel_release"] = 310; },
       "/host/kernel_release: Value type not permitted by 'type' constraint (got 310)"},
      {"nullable object, not any type", [](json& d) { d["host"]["libc"] = "glibc"; },
       "/host/libc: Value type not permitted by 'type' constraint (got \"glibc\")"},
      {"minItems", [](json& d) { d["checks"] = json::array(); },
       "/checks: Array should contain no fewer than 1 elements"},
      {"minLength", [](json& d) { d["checks"][0]["message"] = ""; },
       "/checks/0/message: String should be no fewer than 1 characters"},
      {"if/then: fail without remedy", [&](json& d) { d["checks"][failing]["remedy"] = nullptr; },
       f + "/remedy: Value type not permitted by 'type' constraint (got null)"},
      {"if/then: fail with empty remedy", [&](json& d) { d["checks"][failing]["remedy"] = ""; },
       f + "/remedy: String should be no fewer than 1 characters"},
  };
  for (const auto& c : cases) {
    json d = good;
    c.change(d);
    const auto error = schema().first_error(d);
    if (!error) {
      ADD_FAILURE() << c.name << ": accepted";
      continue;
    }
    EXPECT_EQ(error->rfind(c.error, 0), 0u) << c.name << ": " << *error;
  }
  // Where the schema allows null, null passes: nullable types are unions, not mere types.
  json d = good;
  d["host"]["kernel_release"] = nullptr;
  d["host"]["distro_id"] = nullptr;
  d["host"]["distro_version"] = nullptr;
  d["host"]["libc"]["version"] = nullptr;  // null skips the pattern
  d["features"]["cilium_compatible"] = nullptr;
  EXPECT_FALSE(schema().first_error(d)) << *schema().first_error(d);
  d["host"]["libc"] = nullptr;
  EXPECT_FALSE(schema().first_error(d)) << *schema().first_error(d);
  d = good;
  d["checks"][0]["status"] = "pass";  // if/then does not apply: a pass needs no remedy
  d["checks"][0]["remedy"] = nullptr;
  EXPECT_FALSE(schema().first_error(d)) << *schema().first_error(d);
}

// valijson implements drafts 3, 4 and 7, ignores "$schema" and skips keywords it does not know:
// the validator refuses a schema not declared draft 7, and the preflight schema may use draft
// 7's keywords only (checked by Python's jsonschema against draft 7's metaschema made strict:
// no keyword outside draft 7 in any subschema), so no keyword goes unchecked without a word.
TEST(FleetReportSchema, IsDraft7AndUsesOnlyItsKeywords) {
  json s = json::parse(preflight_schema_text());
  EXPECT_NO_THROW(SchemaValidator{s});
  s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  EXPECT_THROW(SchemaValidator{s}, std::invalid_argument);
  s.erase("$schema");
  EXPECT_THROW(SchemaValidator{s}, std::invalid_argument);
  EXPECT_THROW(SchemaValidator{json::array()}, std::invalid_argument);
  EXPECT_THROW(SchemaValidator(json::parse(R"({"$schema": "http://json-schema.org/draft-07/schema#",
                                               "properties": {"a": 3}})")),
               std::invalid_argument)
      << "valijson's parse errors come out as invalid_argument";

  auto draft7_keywords_only = [](const json& schema) {
    test::TempDir d;
    test::write_file(d / "schema.json", schema.dump());
    const auto r = run({"/usr/bin/python3", "-c",
                        "import copy,json,sys,jsonschema\n"
                        "s=json.load(open(sys.argv[1]))\n"
                        "assert jsonschema.validators.validator_for(s) is "
                        "jsonschema.Draft7Validator, s.get('$schema')\n"
                        "m=copy.deepcopy(jsonschema.Draft7Validator.META_SCHEMA)\n"
                        "m['additionalProperties']=False\n"
                        "jsonschema.Draft7Validator(m).validate(s)\n",
                        (d / "schema.json").string()});
    return r.exit_code == 0 ? std::string() : r.err;
  };
  const json preflight = json::parse(preflight_schema_text());
  EXPECT_EQ(draft7_keywords_only(preflight), "");
  json later = preflight;  // a 2019-09 keyword deep inside: valijson would skip it silently
  later["properties"]["checks"]["items"]["properties"]["id"]["dependentRequired"] = json::object();
  EXPECT_NE(draft7_keywords_only(later).find("dependentRequired"), std::string::npos);
}

FleetReport report_of(const std::vector<std::pair<std::string, json>>& docs,
                      const std::vector<HostFailure>& failed = {}) {
  return FleetReport::from_documents(docs, failed);
}

TEST(FleetReport, GroupsByDistributionAndKernelBuildWithEachCheckOnce) {
  const json c75 = preflight_of("centos-7.5");
  json other = c75;  // same build, same findings: one group, both hosts on each check
  const auto r = report_of({{"a.json", c75},
                            {"b.json", other},
                            {"deb.json", preflight_of("debian-9")},
                            {"c76.json", preflight_of("centos-7.6")}},
                           {{"gone", "unreachable"}})
                     .to_json();
  EXPECT_EQ(r["summary"], json({{"hosts", 5},
                                {"supported", 2},
                                {"unsupported", 2},
                                {"failed", 1},
                                {"earlier_run", 0},
                                {"rollout", 2},
                                {"ungated", 0}}));
  EXPECT_EQ(r["left_out"], json({"a", "b", "gone"}));
  ASSERT_EQ(r["groups"].size(), 3u);
  const auto& g = r["groups"][0];  // the unsupported group comes first
  EXPECT_EQ(g["distro_id"], "centos");
  EXPECT_EQ(g["distro_version"], "7.5.1804");
  EXPECT_EQ(g["kernel_release"], "3.10.0-862.el7.x86_64");
  EXPECT_EQ(g["verdict"], "unsupported");
  EXPECT_EQ(g["hosts"], json({"a", "b"}));
  EXPECT_EQ(g["features_lost"],
            json({"dns_resolution", "network_monitoring", "tcp_failed_connections"}));
  ASSERT_GE(g["checks"].size(), 3u);
  EXPECT_EQ(g["checks"][0]["status"], "fail");
  EXPECT_EQ(g["checks"][0]["hosts"], json({"a", "b"}));
  EXPECT_FALSE(g["checks"][0]["remedy"].get<std::string>().empty());
  EXPECT_EQ(g["checks"].back()["status"], "warn") << "failures first, then warnings";
  EXPECT_EQ(g["rungs"], json::array()) << "no rung reported: tolerated";
  for (const auto& h : r["hosts"])
    EXPECT_EQ(h["rollout"].get<bool>(), h["state"] == "supported") << h.dump();
  EXPECT_EQ(r["hosts"][3]["host"], "deb");
  EXPECT_EQ(r["hosts"][4], json({{"host", "gone"},
                                 {"state", "failed"},
                                 {"rollout", false},
                                 {"earlier_run", false},
                                 {"ungated", false},
                                 {"reason", "unreachable"}}));
  EXPECT_TRUE(python_says_valid(r, test::source_dir() / "checks/fleet_report.schema.json"));
}

json row_of(const json& report, const std::string& host) {
  for (const auto& r : report["hosts"])
    if (r["host"] == host) return r;
  ADD_FAILURE() << "no row for " << host;
  return json::object();
}

// A run limited to some hosts (Ansible's --limit) still reports the fleet: the others' answers
// kept from an earlier run are read like this run's, and their rows say so.
TEST(FleetReport, AnswersFromAnEarlierRunAreReportedAndMarked) {
  const auto r = FleetReport::from_documents({{"now.json", preflight_of("debian-9")}},
                                             {{"gone", "unreachable"}}, false,
                                             {{"kept/before.json", preflight_of("centos-7.5")}})
                     .to_json();
  EXPECT_EQ(r["summary"]["hosts"], 3);
  EXPECT_EQ(r["summary"]["earlier_run"], 1);
  EXPECT_EQ(r["summary"]["unsupported"], 1) << "judged by its answer, as any other";
  EXPECT_EQ(row_of(r, "before")["earlier_run"], true);
  EXPECT_EQ(row_of(r, "now")["earlier_run"], false);
  EXPECT_EQ(row_of(r, "gone")["earlier_run"], false);
  EXPECT_TRUE(python_says_valid(r, test::source_dir() / "checks/fleet_report.schema.json"));
  const auto md = FleetReport::from_documents({{"now.json", preflight_of("debian-9")}}, {}, false,
                                              {{"before.json", preflight_of("centos-7.5")}})
                      .to_markdown();
  EXPECT_NE(md.find("Answers kept from an earlier run (not asked in this one): before"),
            std::string::npos)
      << md;
  // A host asked now and kept from before is one host given twice.
  EXPECT_THROW(FleetReport::from_documents({{"a.json", preflight_of("debian-9")}}, {}, false,
                                           {{"old/a.json", preflight_of("debian-9")}}),
               FleetInputError);
}

// Hosts whose rollout does not wait on their preflight (Ansible's cnmkit_preflight: false) are
// rolled out whatever their state: the report says so, row by row and in its counts, and
// leaves them out of "left out". A name that is no host of the report is refused.
TEST(FleetReport, UngatedHostsAreInTheRolloutWhateverTheirAnswer) {
  const auto report = FleetReport::from_documents(
      {{"old.json", preflight_of("centos-7.5")}, {"ok.json", preflight_of("debian-9")}},
      {{"erred", "cnmctl preflight failed (exit 2); rolled out anyway"}, {"down", "unreachable"}},
      false, {}, {"old", "erred"});
  const auto r = report.to_json();
  EXPECT_EQ(row_of(r, "old")["state"], "unsupported");
  EXPECT_EQ(row_of(r, "old")["rollout"], true);
  EXPECT_EQ(row_of(r, "old")["ungated"], true);
  EXPECT_EQ(row_of(r, "erred")["rollout"], true);
  EXPECT_EQ(row_of(r, "down")["rollout"], false);
  EXPECT_EQ(row_of(r, "ok")["ungated"], false);
  EXPECT_EQ(r["left_out"], json({"down"}));
  EXPECT_EQ(r["summary"]["rollout"], 3);
  EXPECT_EQ(r["summary"]["ungated"], 2);
  EXPECT_TRUE(python_says_valid(r, test::source_dir() / "checks/fleet_report.schema.json"));
  EXPECT_NE(report.to_markdown().find(
                "1 supported, 1 unsupported, 2 without a preflight (failed); 3 in the rollout (2 "
                "whatever its preflight says: its gate is off)."),
            std::string::npos)
      << report.to_markdown();
  EXPECT_THROW(
      FleetReport::from_documents({{"ok.json", preflight_of("debian-9")}}, {}, false, {}, {"typo"}),
      FleetInputError);
}

TEST(FleetReport, SameDistributionAndKernelButOneHostFailsIsMixed) {
  const json ok = preflight_of("centos-7.6");
  json broken = ok;
  broken["verdict"] = "unsupported";
  broken["features"]["network_monitoring"] = false;
  broken["checks"][0]["status"] = "fail";
  broken["checks"][0]["remedy"] = "fix it";
  const auto r = report_of({{"x.json", ok}, {"y.json", broken}}).to_json();
  ASSERT_EQ(r["groups"].size(), 1u);
  EXPECT_EQ(r["groups"][0]["verdict"], "mixed");
  EXPECT_EQ(r["groups"][0]["checks"][0]["hosts"], json({"y"}));
}

TEST(FleetReport, StrictLeavesOutHostsWithWarnings) {
  const json c76 = preflight_of("centos-7.6");  // supported, DNS resolution warns
  EXPECT_EQ(report_of({{"h.json", c76}}).to_json()["left_out"], json::array());
  const auto strict = FleetReport::from_documents({{"h.json", c76}}, {}, true).to_json();
  EXPECT_EQ(strict["left_out"], json({"h"}));
  EXPECT_EQ(strict["groups"][0]["verdict"], "unsupported");
}

TEST(FleetReport, TakesTheRungFromTheFeatures) {
  // Under --root the preflight cannot tell the rung (null); a live host's report names it.
  json with = preflight_of("debian-9");
  EXPECT_TRUE(with["features"]["probe_rung"].is_null());
  EXPECT_TRUE(report_of({{"h.json", with}}).to_json()["hosts"][0]["rung"].is_null());
  with["features"]["probe_rung"] = "raw_tp_perf";
  auto r = report_of({{"h.json", with}}).to_json();
  EXPECT_EQ(r["hosts"][0]["rung"], "raw_tp_perf");
  EXPECT_EQ(r["groups"][0]["rungs"], json({"raw_tp_perf"}));
  // A name the ladder does not have is not a preflight report.
  with["features"]["probe_rung"] = "fentry";
  EXPECT_THROW(report_of({{"h.json", with}}), FleetInputError);
}

// Which probe each host's preflight judged (the Agent's system-probe or cnm-probe): a fleet of
// both is rolled out with different settings. An answer from a cnmctl too old to say is still
// taken, its probe unknown.
TEST(FleetReport, TakesTheProbeFromTheAnswer) {
  json alone = preflight_of("debian-9");
  ASSERT_EQ(alone["probe"]["name"], "cnmkit") << alone["probe"];
  json beside = alone;
  beside["probe"] = {
      {"name", "agent"}, {"why", "Datadog Agent 7.50.0 (x)"}, {"notes", json::array()}};
  json older = alone;
  older.erase("probe");
  const auto r = report_of({{"a.json", alone}, {"b.json", beside}, {"c.json", older}});
  const auto j = r.to_json();
  EXPECT_EQ(j["hosts"][0]["probe"], "cnmkit");
  EXPECT_EQ(j["hosts"][1]["probe"], "agent");
  EXPECT_TRUE(j["hosts"][2]["probe"].is_null());
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["probes"], json({"agent", "cnmkit"}));
  EXPECT_TRUE(python_says_valid(j, test::source_dir() / "checks/fleet_report.schema.json"));
  EXPECT_NE(r.to_markdown().find("- probe: agent; cnmkit, rung: "), std::string::npos)
      << r.to_markdown();
  EXPECT_NE(r.to_csv().find(",rung,probe,"), std::string::npos) << r.to_csv();
  // A probe the schema does not name is not a preflight report.
  beside["probe"]["name"] = "other";
  EXPECT_THROW(report_of({{"b.json", beside}}), FleetInputError);
}

TEST(FleetReport, RefusesBadInputNamingIt) {
  const json good = preflight_of("debian-9");
  json bad = good;
  bad["verdict"] = "perhaps";
  try {
    report_of({{"fine.json", good}, {"/x/web-3.json", bad}});
    FAIL() << "accepted a bad report";
  } catch (const FleetInputError& e) {
    EXPECT_STREQ(e.what(),
                 "/x/web-3.json: not a preflight report (checks/preflight.schema.json): /verdict: "
                 "Failed to match against any enum values (got \"perhaps\")");
  }
  EXPECT_THROW(report_of({{"a/h.json", good}, {"b/h.json", good}}), FleetInputError);
  EXPECT_THROW(report_of({{"h.json", good}}, {{"h", "twice"}}), FleetInputError);
  EXPECT_THROW(report_of({{"h\n1.json", good}}), FleetInputError);
  EXPECT_THROW(report_of({}, {{"", "no name"}}), FleetInputError);
}

// The verdict is the checks' conclusion: an edited or mixed-up report whose verdict and checks
// disagree is refused, not rolled out (or left out) on the word of its verdict.
TEST(FleetReport, RefusesAVerdictItsChecksContradict) {
  const auto refusal = [](const json& doc) -> std::string {
    try {
      report_of({{"web-1.json", doc}});
    } catch (const FleetInputError& e) {
      return e.what();
    }
    return "accepted";
  };
  json failed = preflight_of("centos-7.5");  // kernel.version fails: unsupported
  ASSERT_EQ(failed["verdict"], "unsupported");
  EXPECT_EQ(refusal(failed), "accepted");
  json lying = failed;
  lying["verdict"] = "supported";
  lying["features"]["network_monitoring"] = true;
  EXPECT_EQ(refusal(lying), "web-1.json: verdict \"supported\" but check kernel.version failed");
  json fine = preflight_of("debian-9");
  ASSERT_EQ(fine["verdict"], "supported");
  json gloomy = fine;
  gloomy["verdict"] = "unsupported";
  gloomy["features"]["network_monitoring"] = false;
  EXPECT_EQ(refusal(gloomy), "web-1.json: verdict \"unsupported\" but no check failed");
  json off = fine;
  off["features"]["network_monitoring"] = false;
  EXPECT_EQ(refusal(off), "web-1.json: verdict \"supported\" but network_monitoring is off");
  // Two runs pasted together: the same check twice, once failing and once passing.
  json pasted = failed;
  for (const auto& c : fine["checks"])
    if (c["id"] == "kernel.version") pasted["checks"].push_back(c);
  ASSERT_GT(pasted["checks"].size(), failed["checks"].size());
  EXPECT_EQ(refusal(pasted), "web-1.json: check kernel.version given twice");
}

// Host files are hostile: a crafted os-release must not add Markdown cells, HTML or links, nor
// run as a spreadsheet formula from the CSV.
TEST(FleetReport, MarkdownAndCsvEscapeWhatHostsSay) {
  json d = preflight_of("centos-7.5");
  d["host"]["distro_id"] = "evil | <script>x</script>\n# heading";
  d["checks"][0]["message"] = "=HYPERLINK(\"http://x\") | [link](http://x)";
  const auto r = report_of({{"h.json", d}}, {{"g", "=cmd|' /C calc'!A0, \"quoted\"\nline"}});
  const auto md = r.to_markdown();
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_EQ(md.find("\n# heading"), std::string::npos) << md;
  EXPECT_EQ(md.find("[link]"), std::string::npos) << md;
  for (std::size_t pos = 0, end; (end = md.find('\n', pos)) != std::string::npos; pos = end + 1) {
    const auto line = md.substr(pos, end - pos);
    if (line.rfind("| ", 0) != 0) continue;
    std::size_t cells = 0;
    for (std::size_t i = 0; i < line.size(); ++i)
      cells += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    EXPECT_TRUE(cells == 4 || cells == 6) << "a cell was split: " << line;
  }
  // Parse the CSV back with Python's csv module: 17 columns in every row, the formula defused.
  test::TempDir dir;
  test::write_file(dir / "r.csv", r.to_csv());
  const auto py = run({"/usr/bin/python3", "-c",
                       "import csv,sys\n"
                       "rows=list(csv.reader(open(sys.argv[1],newline='')))\n"
                       "assert all(len(r)==17 for r in rows), rows\n"
                       "print(rows[1][13]); print(rows[2][10])\n",
                       (dir / "r.csv").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "'=cmd|' /C calc'!A0, \"quoted\"\nline\nkernel.version; distro.supported\n");
}

// What a terminal or a Markdown viewer would act on: escape sequences, C0/C1 controls, a
// bidirectional override, invalid UTF-8; both renderings show them escaped, as the text output.
TEST(FleetReport, MarkdownAndCsvShowControlsAndInvalidUtf8Escaped) {
  json d = preflight_of("centos-7.5");
  const std::string hostile =
      "Acme \x1b]0;title\x07\x1b[2J\x08 \xe2\x80\xae txt.exe \xff \xc2\x9b end";
  d["host"]["distro_id"] = hostile;
  d["checks"][0]["message"] = hostile;
  const auto r = report_of({{"h.json", d}}, {{"g", "why \x07\x1b[2J\xff"}});
  for (const auto& [name, text] : {std::pair{"md", r.to_markdown()}, {"csv", r.to_csv()}}) {
    for (const std::string raw : {"\x1b", "\x07", "\x08", "\xff", "\xe2\x80\xae", "\xc2\x9b"})
      EXPECT_EQ(text.find(raw), std::string::npos) << name << " carries a raw byte: " << text;
    EXPECT_NE(text.find("x1b"), std::string::npos) << name << ": " << text;
    EXPECT_NE(text.find("u202e"), std::string::npos) << name << ": " << text;
  }
}

// One source of truth for the length of what host files put in an answer: the preflight cuts
// to kMaxHostFieldBytes / kMaxMessageBytes (checks/preflight.h), the published schema says the
// same, and both fit what the fleet report checks.
static_assert(kMaxHostFieldBytes <= kMaxCheckedStringBytes);
static_assert(kMaxMessageBytes <= kMaxCheckedStringBytes);

TEST(FleetReportSchema, DeclaresTheLengthsThePreflightKeeps) {
  const json s = json::parse(preflight_schema_text());
  const auto& host = s["properties"]["host"]["properties"];
  for (const char* k : {"kernel_release", "distro_id", "distro_version", "arch"})
    EXPECT_EQ(host[k].value("maxLength", 0u), kMaxHostFieldBytes) << k;
  EXPECT_EQ(host["libc"]["properties"]["source"].value("maxLength", 0u), kMaxHostFieldBytes);
  const auto& check = s["properties"]["checks"]["items"]["properties"];
  for (const char* k : {"message", "remedy"})
    EXPECT_EQ(check[k].value("maxLength", 0u), kMaxMessageBytes) << k;
}

// A legal 5000-byte PRETTY_NAME (and an invalid byte in it): the answer names the host cut
// short, keeps its verdict's words, and the fleet report takes it.
TEST(FleetReport, ALongOsReleaseNameIsCutAndTheAnswerIsAccepted) {
  test::HostBuilder h;
  h.file("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"20.04\"\nPRETTY_NAME=\"Ubuntu 20.04 \xff" +
                                std::string(5000, 'x') + "\"\n");
  h.kernel("5.4.0-150-generic" + std::string(5000, 'k'));
  const PreflightReport pr = h.run();
  const auto distro = test::find_check(pr, "distro.supported");
  EXPECT_NE(distro.message.find("is supported"), std::string::npos) << distro.message;
  EXPECT_NE(distro.message.find("\xe2\x80\xa6"), std::string::npos) << distro.message;
  EXPECT_LE(distro.message.size(), kMaxMessageBytes);
  EXPECT_LE(pr.kernel_release.size(), kMaxHostFieldBytes);
  const json doc = json::parse(to_json(pr).dump(-1, ' ', false, json::error_handler_t::replace));
  EXPECT_EQ(schema().first_error(doc), std::nullopt);
  EXPECT_NO_THROW(report_of({{"long.json", doc}}));
}

struct CliRun {
  test::TempDir dir;
  std::filesystem::path out() const { return dir / "report"; }
  test::RunResult report(std::vector<std::string> args) const {
    std::vector<std::string> argv = {test::cnmctl(), "fleet", "report", "--output-dir",
                                     out().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
};

TEST(FleetReportCli, WritesThreeFormatsAndLeavesThemAloneWhenNothingChanged) {
  CliRun c;
  test::write_file(c.dir / "web-1.json", preflight_of("debian-9").dump());
  test::write_file(c.dir / "db-1.json", preflight_of("centos-7.5").dump());
  const std::vector<std::string> files = {(c.dir / "web-1.json").string(),
                                          (c.dir / "db-1.json").string(), "--failed",
                                          "cache-1=package install: dpkg failed"};
  auto r = c.report(files);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("unchanged"), std::string::npos);
  for (const char* f : {"fleet-report.json", "fleet-report.md", "fleet-report.csv"})
    ASSERT_TRUE(std::filesystem::exists(c.out() / f)) << f;
  const auto doc = json::parse(test::read_file(c.out() / "fleet-report.json"));
  EXPECT_EQ(doc["left_out"], json({"cache-1", "db-1"}));
  EXPECT_NE(test::read_file(c.out() / "fleet-report.md")
                .find("| cache-1 | failed | package install: dpkg failed |"),
            std::string::npos);
  struct stat before {};
  ASSERT_EQ(::stat((c.out() / "fleet-report.md").c_str(), &before), 0);
  r = c.report(files);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
  struct stat after {};
  ASSERT_EQ(::stat((c.out() / "fleet-report.md").c_str(), &after), 0);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  // --failed takes one value: a file after it is still a file.
  r = run({test::cnmctl(), "fleet", "report", "--format", "csv", "--failed", "x=down", files[0]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\r\nweb-1,supported,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\r\nx,failed,no,"), std::string::npos) << r.out;
  // One printed format: the same JSON as the file.
  r = run({test::cnmctl(), "fleet", "report", "--format", "json", files[0], files[1], files[2],
           files[3]});
  EXPECT_EQ(json::parse(r.out), doc);
  // An earlier answer is dated by its file: when the run that saved it wrote it.
  const auto kept = c.dir / "kept";
  std::filesystem::create_directories(kept);
  test::write_file(kept / "old-1.json", preflight_of("debian-9").dump());
  const timespec times[2] = {{1763632800, 0}, {1763632800, 0}};  // 2025-11-20T10:00:00Z
  ASSERT_EQ(::utimensat(AT_FDCWD, (kept / "old-1.json").c_str(), times, 0), 0);
  r = run({test::cnmctl(), "fleet", "report", "--format", "json", "--earlier",
           (kept / "old-1.json").string(), files[0]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto dated = json::parse(r.out);
  EXPECT_EQ(row_of(dated, "old-1")["answered_at"], "2025-11-20T10:00:00Z") << r.out;
  EXPECT_FALSE(row_of(dated, "web-1").contains("answered_at"));
  EXPECT_TRUE(python_says_valid(dated, test::source_dir() / "checks/fleet_report.schema.json"));
  r = run({test::cnmctl(), "fleet", "report", "--earlier", (kept / "old-1.json").string()});
  EXPECT_NE(r.out.find("old-1 (saved 2025-11-20T10:00:00Z)"), std::string::npos) << r.out;
  // --ungated takes one host each time, a host of the report.
  r = run({test::cnmctl(), "fleet", "report", "--format", "json", "--ungated", "db-1", files[0],
           files[1]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["left_out"], json::array()) << r.out;
  r = run({test::cnmctl(), "fleet", "report", "--ungated", "nobody", files[0]});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--ungated nobody: not a host of the report"), std::string::npos) << r.err;
}

// Each hostile input: exit 2, the file named on stderr, no report written.
TEST(FleetReportCli, HostileInputIsRefusedNamingTheFileAndWritesNothing) {
  CliRun c;
  const auto good = (c.dir / "good.json").string();
  test::write_file(good, preflight_of("debian-9").dump());
  json long_id = preflight_of("debian-9");  // would overflow std::regex's recursion
  long_id["checks"][0]["id"] = std::string(1 << 20, 'a') + ".b";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"empty.json", ""},
      {"truncated.json", preflight_of("debian-9").dump().substr(0, 200)},
      {"array.json", "[]"},
      {"string.json", "\"supported\""},
      {"bad-utf8.json", "{\"verdict\": \"\xff\xfe\"}"},
      {"nul.json", std::string("{\"a\":\0}", 7)},
      {"nested.json", std::string(100000, '[') + std::string(100000, ']')},
      {"nested-value.json",
       R"({"schema_version": )" + std::string(100000, '[') + std::string(100000, ']') + "}"},
      {"long-id.json", long_id.dump()},
      {"not-preflight.json", R"({"changed": true, "actions": []})"},
  };
  for (const auto& [name, content] : bad) {
    const auto path = (c.dir / name).string();
    test::write_file(path, content);
    const auto r = c.report({good, path});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find(path + ": "), std::string::npos) << name << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(c.out())) << name << " left a report behind";
  }
  // Too big to be a report: refused before it is read.
  const auto huge = (c.dir / "huge.json").string();
  test::write_file(huge, std::string(kMaxPreflightReportBytes + 1, ' '));
  auto r = c.report({good, huge});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(huge + ": larger than"), std::string::npos) << r.err;
  r = c.report({good, (c.dir / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.json: not a regular file"), std::string::npos) << r.err;
  r = c.report({good, c.dir.path().string()});
  EXPECT_EQ(r.exit_code, 2) << "a folder is not a report";
  r = c.report({good, "--failed", "no-equals-sign"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected HOST=REASON"), std::string::npos) << r.err;
  r = c.report({});
  EXPECT_EQ(r.exit_code, 2) << "no hosts at all";
  EXPECT_FALSE(std::filesystem::exists(c.out()));
  r = run({test::cnmctl(), "fleet", "report", "--format", "yaml", good});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace cnm
