// A pristine Debian 12 host for one test: the cached debootstrapped root
// (tests/installer/nspawn/make_root.sh) under a throwaway overlay, with the cnmkit Debian
// package (built with the tree, packaging/) copied in as /var/tmp/cnmkit.deb. Unmounted when
// destroyed. Shared by the systemd (nspawn) and SysV (chroot) host tests.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_support.h"

namespace cnm::test {

inline constexpr const char* kBookwormRoot = "tests/installer/nspawn/make_root.sh";
inline constexpr const char* kBullseyeRoot = "tests/support/make_bullseye_root.sh";

class DebianRootOverlay {
 public:
  // maker: the script (relative to the source tree) that prints the cached root's path. On
  // failure error() says why and nothing is mounted.
  explicit DebianRootOverlay(const std::string& maker = kBookwormRoot);
  ~DebianRootOverlay();
  DebianRootOverlay(const DebianRootOverlay&) = delete;
  DebianRootOverlay& operator=(const DebianRootOverlay&) = delete;

  const std::string& error() const { return error_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& results() const { return results_; }  // bound or shared in

 private:
  TempDir dir_;
  std::filesystem::path root_, results_;
  bool mounted_ = false;
  std::string error_;
};

// Text without its trailing white space.
std::string trimmed(const std::string& s);
// A results file parsed as JSON (discarded, not thrown, when malformed).
nlohmann::json json_file(const std::filesystem::path& p);

}  // namespace cnm::test
