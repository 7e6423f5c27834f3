#include "common/cli_docs.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace cnm {
namespace {

// Text as roff body text: backslashes escaped, and a line that would start with a control
// character ('.' or '\'') made literal.
std::string roff(std::string_view s) {
  std::string out;
  bool line_start = true;
  for (const char c : s) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

// An option name or literal command word in roff: '-' is a hyphen-minus (\-), so it can be
// searched for and copied from the rendered page.
std::string roff_literal(std::string_view s) {
  std::string out;
  for (const char c : roff(s)) {
    if (c == '-') out += '\\';
    out += c;
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A description as a sentence, so text can follow it.
std::string sentence(std::string s) {
  if (!s.empty() && s.back() != '.') s += '.';
  return s;
}

bool visible(const CLI::Option* o) { return !o->get_group().empty(); }

// Flags take no value (a minimum of zero); --flag=value forms are not offered.
bool takes_value(const CLI::Option* o) { return o->get_items_expected_min() != 0; }

std::vector<std::string> option_names(const CLI::Option* o) {
  std::vector<std::string> names;
  for (const auto& s : o->get_snames()) names.push_back("-" + s);
  for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  return names;
}

std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
  std::vector<const CLI::App*> subs;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!s->get_group().empty()) subs.push_back(s);
  return subs;
}

// ".TP" items for each visible named option of one command.
std::string options_section(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* o : app.get_options()) {
    if (!visible(o) || !o->nonpositional()) continue;
    out += ".TP\n";
    const auto names = option_names(o);
    for (std::size_t i = 0; i < names.size(); ++i)
      out += (i ? ", " : "") + std::string("\\fB") + roff_literal(names[i]) + "\\fR";
    if (takes_value(o)) out += " \\fI" + roff(o->get_type_name()) + "\\fR";
    out += "\n" + roff(o->get_description());
    if (!o->get_default_str().empty()) out += " (default: " + roff(o->get_default_str()) + ")";
    if (!o->get_envname().empty()) out += " (environment: " + roff(o->get_envname()) + ")";
    if (o->get_items_expected_max() > 1) out += " (may be given more than once)";
    out += "\n";
  }
  return out;
}

// A command's own options, then each nested subcommand with its options.
std::string command_body(const CLI::App& cmd, const std::string& path) {
  std::string out;
  const std::string opts = options_section(cmd);
  if (!opts.empty()) out += ".SH OPTIONS\n" + opts;
  for (const CLI::App* sub : subcommands_of(cmd)) {
    const std::string sub_path = path + " " + sub->get_name();
    out += ".SH \"" + upper(roff_literal(sub_path)) + "\"\n";
    out += ".B " + roff_literal(sub_path) + "\n[\\fIOPTIONS\\fR]\n.PP\n" +
           roff(sub->get_description()) + "\n";
    const std::string sub_opts = options_section(*sub);
    if (!sub_opts.empty()) out += ".PP\nOptions:\n" + sub_opts;
  }
  return out;
}

std::string header(const std::string& page, const ManInfo& info, const std::string& summary) {
  return ".TH " + upper(roff_literal(page)) + " " + std::to_string(info.section) + " \"\" \"" +
         roff(info.version) + "\" \"cnmkit manual\"\n.SH NAME\n" + roff_literal(page) + " \\- " +
         roff(summary) + "\n";
}

std::string footer(const ManInfo& info, const std::string& see_also) {
  std::string out;
  if (!info.exit_status.empty()) out += ".SH \"EXIT STATUS\"\n" + roff(info.exit_status) + "\n";
  if (!see_also.empty()) out += ".SH \"SEE ALSO\"\n" + see_also + "\n";
  return out;
}

ManPage program_page(const CLI::App& app, const ManInfo& info) {
  const auto subs = subcommands_of(app);
  std::string t = header(info.program, info, app.get_description());
  t += ".SH SYNOPSIS\n.B " + roff_literal(info.program) + "\n[\\fIOPTIONS\\fR]";
  if (!subs.empty()) t += " \\fICOMMAND\\fR [\\fIARGS\\fR]";
  t += "\n.SH DESCRIPTION\n" + roff(app.get_description()) + "\n";
  t += [&] {
    const std::string opts = options_section(app);
    return opts.empty() ? std::string() : ".SH OPTIONS\n" + opts;
  }();
  std::string see_also;
  if (!subs.empty()) {
    t += ".SH COMMANDS\n";
    for (const CLI::App* sub : subs) {
      const std::string page = info.program + "-" + sub->get_name();
      t += ".TP\n\\fB" + roff_literal(sub->get_name()) + "\\fR\n" +
           roff(sentence(sub->get_description())) + " See \\fB" + roff_literal(page) + "\\fR(" +
           std::to_string(info.section) + ").\n";
      see_also += std::string(see_also.empty() ? "" : ",\n") + "\\fB" + roff_literal(page) +
                  "\\fR(" + std::to_string(info.section) + ")";
    }
  }
  t += footer(info, see_also);
  return {info.program + "." + std::to_string(info.section), t};
}

ManPage subcommand_page(const CLI::App& sub, const ManInfo& info) {
  const std::string page = info.program + "-" + sub.get_name();
  const std::string path = info.program + " " + sub.get_name();
  std::string t = header(page, info, sub.get_description());
  t += ".SH SYNOPSIS\n.B " + roff_literal(path) + "\n";
  t += subcommands_of(sub).empty() ? "[\\fIOPTIONS\\fR]\n" : "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n";
  t += ".SH DESCRIPTION\n" + roff(sub.get_description()) + "\n";
  t += command_body(sub, path);
  t += footer(info,
              "\\fB" + roff_literal(info.program) + "\\fR(" + std::to_string(info.section) + ")");
  return {page + "." + std::to_string(info.section), t};
}

// Each command path ("" for the program, "config enable") with what completes after it.
struct CompletionNode {
  std::set<std::string> subcommands, words, valued;
};

void collect(const CLI::App& app, const std::string& path, CompletionNode inherited,
             std::map<std::string, CompletionNode>& out) {
  CompletionNode node;
  node.words = inherited.words;  // a parent's options are accepted after a subcommand too
  node.valued = inherited.valued;
  for (const CLI::Option* o : app.get_options()) {
    if (!visible(o) || !o->nonpositional()) continue;
    for (const auto& n : option_names(o)) {
      node.words.insert(n);
      if (takes_value(o)) node.valued.insert(n);
    }
  }
  CompletionNode passed_down{{}, node.words, node.valued};
  for (const CLI::App* sub : subcommands_of(app)) {
    node.subcommands.insert(sub->get_name());
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), passed_down, out);
  }
  node.words.insert(node.subcommands.begin(), node.subcommands.end());
  out[path] = node;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
  return out;
}

// case "$1" in "path") echo "words";; ... esac, one function per kind of list.
std::string lookup_function(const std::string& name,
                            const std::map<std::string, CompletionNode>& nodes,
                            std::set<std::string> CompletionNode::*member) {
  std::string f = name + "() {\n  case \"$1\" in\n";
  for (const auto& [path, node] : nodes)
    f += "    \"" + path + "\") echo \"" + joined(node.*member) + "\" ;;\n";
  return f + "  esac\n}\n";
}

}  // namespace

std::vector<ManPage> man_pages(const CLI::App& app, const ManInfo& info) {
  std::vector<ManPage> pages{program_page(app, info)};
  for (const CLI::App* sub : subcommands_of(app)) pages.push_back(subcommand_page(*sub, info));
  return pages;
}

std::string bash_completion(const CLI::App& app, std::string_view program) {
  std::string fn = "_";
  for (const char c : program) fn += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  std::map<std::string, CompletionNode> nodes;
  collect(app, "", {}, nodes);
  std::string s = "# bash completion for " + std::string(program) +
                  ": generated by cnmctl-docs from the CLI definitions; do not edit.\n";
  s += lookup_function(fn + "_subcommands", nodes, &CompletionNode::subcommands);
  s += lookup_function(fn + "_words", nodes, &CompletionNode::words);
  s += lookup_function(fn + "_valued", nodes, &CompletionNode::valued);
  s += fn +
       "() {\n"
       "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path= i w\n"
       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
       "    w=${COMP_WORDS[i]}\n"
       "    if [[ \" $(" +
       fn +
       "_valued \"$path\") \" == *\" $w \"* ]]; then\n"
       "      ((i++))\n"
       "    elif [[ \" $(" +
       fn +
       "_subcommands \"$path\") \" == *\" $w \"* ]]; then\n"
       "      path=${path:+$path }$w\n"
       "    fi\n"
       "  done\n"
       "  if ((COMP_CWORD > 1)) && [[ \" $(" +
       fn +
       "_valued \"$path\") \" == *\" $prev \"* ]]; then\n"
       "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
       "    return\n"
       "  fi\n"
       "  mapfile -t COMPREPLY < <(compgen -W \"$(" +
       fn +
       "_words \"$path\")\" -- \"$cur\")\n"
       "}\n"
       "complete -F " +
       fn + " " + std::string(program) + "\n";
  return s;
}

}  // namespace cnm
