// The part of the kernel's BTF that CO-RE relocations can see (probe/core_btf.h): a BTF built here
// with libbpf's writer, cut down and read back with libbpf's reader; and the relocation roots of
// the objects this build embeds. That libbpf relocates the same against the cut-down BTF as
// against the whole is tests/probe/core_btf_root_test.cpp (programs loaded both ways).
#include "probe/core_btf.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <linux/btf.h>

#include <string>

#include "probe/embedded_files.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

std::string raw(const btf* b) {
  __u32 size = 0;
  const void* data = btf__raw_data(b, &size);
  return std::string(static_cast<const char*>(data), size);
}

struct Parsed {
  btf* b = nullptr;
  explicit Parsed(const std::string& blob) : b(btf__new(blob.data(), blob.size())) {}
  ~Parsed() { btf__free(b); }
  int find(const char* name, int kind) const { return btf__find_by_name_kind(b, name, kind); }
  const char* name_of(__u32 id) const {
    return btf__name_by_offset(b, btf__type_by_id(b, id)->name_off);
  }
};

// int; struct other { int x; }; struct sock { int a; struct other *p; };
// struct unrelated { long l; }; struct sock___old { int b; }; typedef int sock;
// enum sock_flags { SOCK_DEAD }; enum64 sock_flags___x { X }.
std::string kernel_like_btf() {
  btf* b = btf__new_empty();
  const int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  const int lng = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
  const int other = btf__add_struct(b, "other", 4);
  btf__add_field(b, "x", i, 0, 0);
  const int ptr = btf__add_ptr(b, other);
  btf__add_struct(b, "sock", 16);
  btf__add_field(b, "a", i, 0, 0);
  btf__add_field(b, "p", ptr, 64, 0);
  btf__add_struct(b, "unrelated", 8);
  btf__add_field(b, "l", lng, 0, 0);
  btf__add_struct(b, "sock___old", 4);
  btf__add_field(b, "b", i, 0, 0);
  btf__add_typedef(b, "sock", i);
  btf__add_enum(b, "sock_flags", 4);
  btf__add_enum_value(b, "SOCK_DEAD", 0);
  btf__add_enum64(b, "sock_flags___x", 8, false);
  btf__add_enum64_value(b, "X", 1);
  std::string out = raw(b);
  btf__free(b);
  return out;
}

TEST(CoreBtf, KeepsTheCandidatesOfEachRootAndAllTheyReachRenumbered) {
  std::string why;
  const auto subset = btf_subset(kernel_like_btf(),
                                 {{"sock", BTF_KIND_STRUCT}, {"sock_flags", BTF_KIND_ENUM}}, &why);
  ASSERT_TRUE(subset) << why;
  const Parsed p(*subset);
  ASSERT_NE(p.b, nullptr) << "libbpf cannot read the subset";
  const int sock = p.find("sock", BTF_KIND_STRUCT);
  ASSERT_GT(sock, 0);
  EXPECT_GT(p.find("sock___old", BTF_KIND_STRUCT), sock) << "a flavor is a candidate too, after";
  EXPECT_GT(p.find("other", BTF_KIND_STRUCT), 0) << "reached through sock.p";
  EXPECT_GT(p.find("int", BTF_KIND_INT), 0);
  EXPECT_GT(p.find("sock_flags", BTF_KIND_ENUM), 0);
  EXPECT_GT(p.find("sock_flags___x", BTF_KIND_ENUM64), 0) << "enum and enum64 match (libbpf)";
  EXPECT_LT(p.find("unrelated", BTF_KIND_STRUCT), 0);
  EXPECT_LT(p.find("long", BTF_KIND_INT), 0);
  EXPECT_LT(p.find("sock", BTF_KIND_TYPEDEF), 0) << "a typedef is no candidate for a struct";
  // sock.p still points at struct other, its names intact.
  const btf_type* t = btf__type_by_id(p.b, static_cast<__u32>(sock));
  ASSERT_EQ(btf_vlen(t), 2);
  const btf_member* m = btf_members(t);
  EXPECT_STREQ(btf__name_by_offset(p.b, m[1].name_off), "p");
  const btf_type* ptr = btf__type_by_id(p.b, m[1].type);
  ASSERT_TRUE(btf_is_ptr(ptr));
  EXPECT_STREQ(p.name_of(ptr->type), "other");
  EXPECT_EQ(m[1].offset, 64U);
  EXPECT_EQ(btf__type_cnt(p.b), 8U) << "void, int, other, ptr, sock, sock___old, 2 enums";
}

TEST(CoreBtf, ARootWithoutCandidateOrABrokenBtfGivesNoSubset) {
  std::string why;
  EXPECT_FALSE(btf_subset(kernel_like_btf(), {{"absent", BTF_KIND_STRUCT}}, &why));
  EXPECT_EQ(why, "no kernel type named absent");
  // The kernel has "unrelated" as a struct only: a union of that name has no candidate.
  EXPECT_FALSE(btf_subset(kernel_like_btf(), {{"unrelated", BTF_KIND_UNION}}, &why));
  std::string broken = kernel_like_btf();
  broken.resize(broken.size() / 2);
  EXPECT_FALSE(btf_subset(broken, {{"sock", BTF_KIND_STRUCT}}, &why));
  EXPECT_FALSE(btf_subset("not btf at all, long enough for a header", {}, &why));
}

TEST(CoreBtf, TheEmbeddedTracerRelocatesFromKernelStructs) {
  const auto bytes = embedded_object("tcp_tracer.bpf.o");
  ASSERT_TRUE(bytes);
  std::string why;
  const auto roots = core_roots(*bytes, &why);
  ASSERT_TRUE(roots) << why;
  EXPECT_TRUE(roots->count({"sock", BTF_KIND_STRUCT}));
  for (const auto& r : *roots) EXPECT_EQ(r.name.find("___"), std::string::npos) << r.name;
  EXPECT_FALSE(core_roots(std::as_bytes(std::span("not an ELF", 10)), &why));
}

// The whole path the daemon takes, from a BTF file (the build's own kernel's, as the binary
// carries it, standing in for /sys/kernel/btf/vmlinux) to the path libbpf is given.
TEST(CoreBtf, TheSubsetOfABtfFileReachesLibbpfByPath) {
  const auto tracer = embedded_object("tcp_tracer.bpf.o");
  ASSERT_TRUE(tracer);
  const auto releases = embedded_btf_releases();
  ASSERT_FALSE(releases.empty()) << "the build embedded no BTF file (probe/btf/make_btfs.sh)";
  const auto kernel = *embedded_btf(releases.front());
  test::TempDir dir;
  const auto file = dir / "vmlinux";
  test::write_file(file, std::string(reinterpret_cast<const char*>(kernel.data()), kernel.size()));

  const auto core = CoreBtf::for_object(*tracer, file.c_str());
  ASSERT_TRUE(core);
  btf* cut = btf__parse(core->path().c_str(), nullptr);
  ASSERT_NE(cut, nullptr) << "libbpf cannot read " << core->path();
  EXPECT_GT(btf__find_by_name_kind(cut, "sock", BTF_KIND_STRUCT), 0);
  btf* whole = btf__new(kernel.data(), kernel.size());
  ASSERT_NE(whole, nullptr);
  EXPECT_LE(btf__type_cnt(cut), btf__type_cnt(whole));
  btf__free(whole);
  btf__free(cut);

  EXPECT_FALSE(CoreBtf::for_object(*tracer, (dir / "absent").c_str()));
  test::write_file(file, kernel_like_btf());  // no task_struct, tcp_sock, ...
  EXPECT_FALSE(CoreBtf::for_object(*tracer, file.c_str()));
}

}  // namespace
}  // namespace cnm::probe
