// The kernel's own record of TCP state changes, for a failure's message: the inet_sock_set_state
// trace event in an ftrace instance of the test's own (tracefs mounted on a folder of its own,
// so nothing of the host's tracing is touched), to hold against what the probe saw. When the
// probe misses a close, this says whether the kernel made that transition at all.
#pragma once

#include <filesystem>
#include <string>

#include "tests/support/test_support.h"

namespace cnm::test {

class StateTrace {
 public:
  // filter: an ftrace filter on the event's fields, e.g. "dport == 9". Without tracefs or the
  // event (a kernel built without them) on() is false and text() says so.
  explicit StateTrace(const std::string& filter);
  ~StateTrace();
  StateTrace(const StateTrace&) = delete;
  StateTrace& operator=(const StateTrace&) = delete;
  bool on() const { return on_; }
  // The transitions recorded so far, one line each as ftrace prints them.
  std::string text() const;

 private:
  TempDir mount_;
  std::filesystem::path instance_;
  bool mounted_ = false, on_ = false;
  std::string why_off_;
};

}  // namespace cnm::test
