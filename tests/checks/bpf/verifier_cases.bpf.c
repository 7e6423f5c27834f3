// Two programs for the preflight's object verification test: one the verifier accepts and one
// it must refuse (it writes into the tracepoint context, which is read-only).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int accepted(void *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int refused(void *ctx) {
  *(volatile __u64 *)ctx = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
