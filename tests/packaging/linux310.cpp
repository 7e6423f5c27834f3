// run-with-linux-3.10-syscalls PROGRAM [ARGS...]: runs PROGRAM as CentOS/RHEL 7's kernel would
// answer it: every x86-64 system call added after Linux 3.10 fails with ENOSYS (getrandom,
// statx, openat2, pidfd_*, close_range, clone3, rseq, faccessat2...), except bpf(2), which
// RHEL 7.6 backported. A seccomp filter (libseccomp) is inherited through exec, so PROGRAM and
// every process it starts see the old kernel's surface. x86-64 only: the numbers are its table's.
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// The first x86-64 system call Linux 3.10 lacks: sched_setattr (3.14) is 314; finit_module
// (3.8) is 313, the last of 3.10's table. 3.10 through 3.13 added none on x86-64.
constexpr int kFirstAfter310 = 314;
// Beyond every number a current kernel defines (6.x tops out in the 460s).
constexpr int kPastTheEnd = 512;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    std::fprintf(stderr, "seccomp_init failed\n");
    return 2;
  }
  for (int nr = kFirstAfter310; nr < kPastTheEnd; ++nr) {
    if (nr == SYS_bpf) continue;  // backported to RHEL 7.6's 3.10.0-957
    const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (rc != 0 && rc != -EDOM) {  // -EDOM: a number libseccomp cannot place (none on x86-64)
      std::fprintf(stderr, "seccomp_rule_add(%d): %s\n", nr, std::strerror(-rc));
      return 2;
    }
  }
  if (const int rc = seccomp_load(ctx); rc != 0) {
    std::fprintf(stderr, "seccomp_load: %s\n", std::strerror(-rc));
    return 2;
  }
  seccomp_release(ctx);
  ::execvp(argv[1], argv + 1);
  std::fprintf(stderr, "%s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
