// Shared by every test: temporary folders, file writing, running a command and capturing its
// output and exit code. Tests drive cnmctl as a real process where its CLI is the contract.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace cnm::test {

// A fresh folder under $TMPDIR, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// Writes content, creating parent folders.
void write_file(const std::filesystem::path& p, const std::string& content);
std::string read_file(const std::filesystem::path& p);
// A host fixture's folder name as a GoogleTest parameter name (letters, digits and '_').
std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& info);

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
  // The child's peak resident memory (wait4's ru_maxrss), 0 when it could not be spawned. A
  // posix_spawn child starts from this process's high-water mark: reset it first
  // (/proc/self/clear_refs "5", Linux 4.0) to measure the child alone.
  std::size_t peak_rss_bytes = 0;
};

// Runs argv (no shell) and waits for it.
RunResult run(const std::vector<std::string>& argv);
// Runs a shell command line with /bin/sh -c.
RunResult sh(const std::string& command);

// The built cnmctl binary and the source tree.
std::string cnmctl();
std::filesystem::path source_dir();

}  // namespace cnm::test
