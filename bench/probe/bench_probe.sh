#!/usr/bin/env bash
# Benchmarks of cnm-probe (on demand, never in CI), each a ratio against a baseline run in the
# same invocation:
#   1. nginx + wrk over loopback, keep-alive and one connection per request, without and with
#      the probe (targets: <= 1% and <= 5% fewer requests/s);
#   2. the daemon's CPU per 10k new connections/s (from the one-per-request run);
#   3. memory at 65536 tracked connections: RSS plus BPF map memory (target < 64 MiB).
# Usage: bench/probe/bench_probe.sh BUILD_DIR [SECONDS]   (root; installs nginx-light and wrk)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
secs=${2:-10}
probe="$build/probe/cnm-probe"
[ "$(id -u)" -eq 0 ] || { echo "run as root (loads eBPF)" >&2; exit 2; }
[ -x "$probe" ] || { echo "no $probe: build first" >&2; exit 2; }
for p in nginx-light wrk; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done

work=$(mktemp -d /tmp/cnm-bench-XXXXXX)
nginx_pid=""; probe_pid=""
cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=18080
mkdir -p "$work/html"
head -c 1024 /dev/zero | tr '\0' x > "$work/html/index.html"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port reuseport backlog=4096; root $work/html; }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & nginx_pid=$!
sleep 0.5

cat > "$work/sp.yaml" <<YAML
auth_token_file_path: $work/token
system_probe_config:
  sysprobe_socket: $work/sp.sock
YAML
start_probe() {
  "$probe" --config "$work/sp.yaml" -q 2>"$work/probe.log" & probe_pid=$!
  for _ in $(seq 100); do [ -S "$work/sp.sock" ] && return; sleep 0.1; done
  echo "cnm-probe did not start: $(cat "$work/probe.log")" >&2; exit 1
}
stop_probe() { kill "$probe_pid"; wait "$probe_pid" || true; probe_pid=""; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rps() {  # wrk requests/s; arguments: extra wrk options
  wrk -t 1 -c 32 -d "${secs}s" "$@" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b / a }'; }

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "== 1. nginx + wrk over loopback: 3 alternating rounds of ${secs}s, medians (ratio = with probe / without)"
ka_b=(); cl_b=(); ka_p=(); cl_p=(); cpu_s=0; cpu_t=0
for round in 1 2 3; do
  ka_b+=("$(rps)"); cl_b+=("$(rps -H "Connection: close")")
  start_probe
  ka_p+=("$(rps)")
  t0=$(cpu_ticks "$probe_pid"); s0=$(date +%s.%N)
  cl_p+=("$(rps -H "Connection: close")")
  t1=$(cpu_ticks "$probe_pid"); s1=$(date +%s.%N)
  cpu_t=$((cpu_t + t1 - t0)); cpu_s=$(awk -v a="$cpu_s" -v b="$s0" -v c="$s1" 'BEGIN {print a + c - b}')
  stop_probe
  echo "round $round: keep-alive ${ka_b[-1]} / ${ka_p[-1]}, one per request ${cl_b[-1]} / ${cl_p[-1]} req/s"
done
ka_base=$(printf '%s\n' "${ka_b[@]}" | median); ka_probe=$(printf '%s\n' "${ka_p[@]}" | median)
cl_base=$(printf '%s\n' "${cl_b[@]}" | median); cl_probe=$(printf '%s\n' "${cl_p[@]}" | median)
echo "keep-alive:        $ka_base -> $ka_probe req/s   ratio $(ratio "$ka_base" "$ka_probe")   (target >= 0.99)"
echo "one per request:   $cl_base -> $cl_probe req/s   ratio $(ratio "$cl_base" "$cl_probe")   (target >= 0.95)"

echo "== 2. daemon CPU per 10k new connections/s (during the one-per-request runs)"
hz=$(getconf CLK_TCK)
awk -v t="$cpu_t" -v hz="$hz" -v s="$cpu_s" -v r="$cl_probe" 'BEGIN {
  cpu = t / hz / s; printf "daemon CPU %.2f%% of one core at %.0f new connections/s = %.2f%% per 10k/s\n",
  100 * cpu, r, 100 * cpu * 10000 / r }'

echo "== 3. memory at 65536 tracked connections (4 holders x 8192 connections, both ends)"
start_probe
base_rss=$(awk '/VmRSS/ {print $2}' "/proc/$probe_pid/status")
ulimit -n "$(ulimit -Hn)"
holders=()
for _ in 1 2 3 4; do
  python3 - <<'PY' &
import socket, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4096)
port = srv.getsockname()[1]; keep = []
for i in range(8192):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = srv.accept(); keep += [c, a]
time.sleep(12)
PY
  holders+=($!)
done
sleep 9
rss=$(awk '/VmRSS/ {print $2}' "/proc/$probe_pid/status")
memlock=$(cat /proc/"$probe_pid"/fdinfo/* 2>/dev/null | awk '/^memlock:/ {s += $2} END {print s / 1024}')
stats=$(curl -s --unix-socket "$work/sp.sock" -H "Authorization: Bearer $(cat "$work/token")" http://x/debug/stats)
entries=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn_map_entries_current"])')
full=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn_map_full"])')
wait "${holders[@]}" || true
awk -v b="$base_rss" -v r="$rss" -v m="$memlock" -v e="$entries" -v f="$full" 'BEGIN {
  printf "tracked %d (not tracked, map full: %d); RSS %d KiB (idle %d KiB) + BPF maps %d KiB = %.1f MiB (target < 64 MiB), ratio to target %.2f\n",
  e, f, r, b, m, (r + m) / 1024, (r + m) / 1024 / 64 }'
