// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Seed of fuzz_core_roots: a small BPF object (3 KB, under the fuzzer's input size) with a CO-RE
// relocation of each sort core_roots (probe/core_btf.h) tells apart: field reads through a
// struct into a nested one, a field's existence in a flavored struct ("sock___old", whose root
// is "sock"), a union's and an enum's existence, an enum value, and a local type id (answered
// from the object's own BTF, no root). Self-contained: no vmlinux.h, so its BTF stays small.
#include <linux/types.h>  // first: libbpf's headers use its __u32, __u64

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct sock_common {
  unsigned short skc_family;
  int skc_state;
} __attribute__((preserve_access_index));

struct sock {
  struct sock_common __sk_common;
  unsigned int sk_mark;
} __attribute__((preserve_access_index));

struct sock___old {
  unsigned int sk_mark;
} __attribute__((preserve_access_index));

union u {
  int a;
  long b;
} __attribute__((preserve_access_index));

enum tcp_state { TCP_ESTABLISHED = 1, TCP_CLOSE = 7 };

SEC("raw_tp/inet_sock_set_state")
int seed(__u64* ctx) {
  struct sock* sk = (struct sock*)ctx[0];
  int r = BPF_CORE_READ(sk, __sk_common.skc_state);
  if (bpf_core_field_exists(((struct sock___old*)sk)->sk_mark)) r += 1;
  if (bpf_core_type_exists(union u)) r += 2;
  if (bpf_core_enum_value_exists(enum tcp_state, TCP_ESTABLISHED)) r += 3;
  r += bpf_core_enum_value(enum tcp_state, TCP_CLOSE);
  r += bpf_core_type_id_local(struct sock);
  return r;
}

char LICENSE[] SEC("license") = "GPL";
