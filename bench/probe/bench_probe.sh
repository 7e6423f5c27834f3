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
rps() {  # wrk requests/s; $1 = extra wrk args
  wrk -t 1 -c 32 -d "${secs}s" $1 "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b / a }'; }

echo "== 1. nginx + wrk over loopback, ${secs}s each (ratio = with probe / without)"
ka_base=$(rps "")
cl_base=$(rps "-H Connection:close")
start_probe
ka_probe=$(rps "")
t0=$(cpu_ticks "$probe_pid"); s0=$(date +%s.%N)
cl_probe=$(rps "-H Connection:close")
t1=$(cpu_ticks "$probe_pid"); s1=$(date +%s.%N)
echo "keep-alive:        $ka_base -> $ka_probe req/s   ratio $(ratio "$ka_base" "$ka_probe")   (target >= 0.99)"
echo "one per request:   $cl_base -> $cl_probe req/s   ratio $(ratio "$cl_base" "$cl_probe")   (target >= 0.95)"

echo "== 2. daemon CPU per 10k new connections/s"
hz=$(getconf CLK_TCK)
awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" -v r="$cl_probe" 'BEGIN {
  cpu = t / hz / (s1 - s0); printf "daemon CPU %.2f%% of one core at %.0f new connections/s = %.2f%% per 10k/s\n",
  100 * cpu, r, 100 * cpu * 10000 / r }'
stop_probe

echo "== 3. memory at 65536 tracked connections (32768 connections, both ends)"
start_probe
base_rss=$(awk '/VmRSS/ {print $2}' "/proc/$probe_pid/status")
ulimit -n 80000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
python3 - "$probe_pid" <<'PY' &
import socket, sys, time, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
n = min(32700, (hard - 100) // 2)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4096)
port = srv.getsockname()[1]; keep = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = srv.accept(); keep += [c, a]
print(f"opened {n} connections ({2*n} sockets)", flush=True)
time.sleep(8)
PY
holder=$!
sleep 6
rss=$(awk '/VmRSS/ {print $2}' "/proc/$probe_pid/status")
memlock=$(cat /proc/"$probe_pid"/fdinfo/* 2>/dev/null | awk '/^memlock:/ {s += $2} END {print s / 1024}')
entries=$(curl -s --unix-socket "$work/sp.sock" -H "Authorization: Bearer $(cat "$work/token")" \
  http://x/debug/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn_map_entries_current"])')
wait "$holder" || true
awk -v b="$base_rss" -v r="$rss" -v m="$memlock" -v e="$entries" 'BEGIN {
  printf "tracked %d; RSS %d KiB (idle %d KiB) + BPF maps %d KiB = %.1f MiB (target < 64 MiB), ratio to target %.2f\n",
  e, r, b, m, (r + m) / 1024, (r + m) / 1024 / 64 }'
