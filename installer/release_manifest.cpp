#include "installer/release_manifest.h"

#include <sstream>

#include "installer/release_contents.h"
#include "installer/sha256.h"

namespace cnm {

std::string checked_release_name(const char* raw) {
  if (!raw || !*raw) refuse_release("entry without a name");
  std::string name = raw;
  if (name.front() == '/') refuse_release("absolute path '" + name + "'");
  while (name.size() > 2 && name.compare(0, 2, "./") == 0) name.erase(0, 2);
  if (!name.empty() && name.back() == '/') name.pop_back();
  std::stringstream ss(name);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part == "." || part == "..")
      refuse_release("path with '" + part + "' component: '" + name + "'");
  }
  for (const unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '\\')
      refuse_release("control character or backslash in '" + name + "'");
  return name;
}

std::string lower_hex(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::map<std::string, std::string> parse_manifest(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF manifest
    if (line.empty()) continue;
    if (line.size() < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
      refuse_release(std::string(kManifestName) + " line " + std::to_string(n) +
                     " is not 'SHA256  PATH'");
    const auto hex = lower_hex(line.substr(0, 64));
    if (hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      refuse_release(std::string(kManifestName) + " line " + std::to_string(n) + ": bad hex");
    const auto path = checked_release_name(line.c_str() + 66);
    if (!out.emplace(path, hex).second)
      refuse_release(std::string(kManifestName) + " lists '" + path + "' twice");
  }
  return out;
}

Release verified_release(const std::set<std::string>& names,
                         const std::function<std::string(const std::string&)>& read) {
  if (!names.count(kManifestName)) refuse_release(std::string("no ") + kManifestName);
  const auto manifest = parse_manifest(read(kManifestName));
  for (const auto& [name, hex] : manifest)
    if (!is_release_file(name) || name == kManifestName)
      refuse_release(std::string(kManifestName) + " lists '" + name +
                     "', which is not a file a release holds");
  Release rel;
  for (const auto& name : names) {
    if (name == kManifestName) continue;
    const auto it = manifest.find(name);
    if (it == manifest.end()) refuse_release("'" + name + "' is not in " + kManifestName);
    auto content = read(name);
    if (sha256_hex(content) != it->second)
      refuse_release("'" + name + "' does not match its sha256 in " + kManifestName);
    rel.files.emplace(name, std::move(content));
  }
  for (const auto& [name, hex] : manifest)
    if (!names.count(name))
      refuse_release(std::string(kManifestName) + " lists '" + name + "' but the release lacks it");
  return rel;
}

}  // namespace cnm
