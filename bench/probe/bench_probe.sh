#!/usr/bin/env bash
# Benchmarks of cnm-probe (on demand, never in CI), each a ratio against a baseline run in the
# same invocation:
#   1. nginx + wrk over loopback, keep-alive and one connection per request, without and with
#      the probe (targets: <= 1% and <= 5% fewer requests/s); keep-alive also with the opt-in
#      per-call hooks (network_config.per_call_hooks), one-per-request also with the raw_tp
#      fallback (state_hook: raw_tp), to show what they cost; each ratio is the median of the
#      rounds' own ratios (both runs of a round see the same neighbours on a shared VM);
#      one-per-request also runs "again" without the probe: that A/A ratio is the noise floor;
#   2. the daemon's CPU per 10k new connections/s (from the one-per-request run);
#   3. memory at 65536 tracked connections: RSS plus BPF map memory (target < 64 MiB), and how
#      long a connections call takes there (it refreshes every entry's kernel counters);
#   4. the cost of each BPF program per call and per request or connection
#      (kernel.bpf_stats_enabled, in a separate pass: the statistics cost a little per call).
# nginx runs on CPU 1 and wrk on CPU 0 (when there are two), so the rounds compete less with
# each other and the ratio is steadier; the probe's programs run on whichever CPU does the I/O.
# Usage: bench/probe/bench_probe.sh BUILD_DIR [SECONDS] [ROUNDS]   (root; installs nginx-light
# and wrk)
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
secs=${2:-10}
rounds=${3:-5}
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
pin_server=(); pin_client=()
if [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 1); pin_client=(taskset -c 0); fi
"${pin_server[@]}" nginx -c "$work/nginx.conf" -p "$work" & nginx_pid=$!
sleep 0.5

cat > "$work/sp.yaml" <<YAML
auth_token_file_path: $work/token
system_probe_config:
  sysprobe_socket: $work/sp.sock
YAML
cp "$work/sp.yaml" "$work/sp-per-call.yaml"
printf 'network_config:\n  per_call_hooks: true\n' >>"$work/sp-per-call.yaml"
cp "$work/sp.yaml" "$work/sp-raw-tp.yaml"
printf 'network_config:\n  state_hook: raw_tp\n' >>"$work/sp-raw-tp.yaml"
start_probe() {  # [CONFIG]
  "$probe" --config "${1:-$work/sp.yaml}" -q 2>"$work/probe.log" & probe_pid=$!
  for _ in $(seq 100); do [ -S "$work/sp.sock" ] && return; sleep 0.1; done
  echo "cnm-probe did not start: $(cat "$work/probe.log")" >&2; exit 1
}
stop_probe() { kill "$probe_pid"; wait "$probe_pid" || true; probe_pid=""; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
oncpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }  # precise CPU time of one task
worker_pid=$(pgrep -P "$nginx_pid" | head -1)
# One wrk run; prints "REQUESTS_PER_S CPU_US_PER_REQUEST". The CPU is nginx's worker plus wrk
# (user + system time, where the probe's BPF programs run, inside their syscalls): unlike
# requests/s it barely moves when something else on the machine takes a core for a while.
load() {
  local w0 w1 out
  w0=$(oncpu_ns "$worker_pid")
  out=$("${pin_client[@]}" python3 - "$secs" "$port" "$@" <<'PY'
import re, resource, subprocess, sys
secs, port, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
out = subprocess.run(["wrk", "-t", "1", "-c", "32", "-d", secs + "s", *extra,
                      "http://127.0.0.1:%s/" % port], capture_output=True, text=True).stdout
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
reqs = int(re.search(r"(\d+) requests in", out).group(1))
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rps, reqs, ru.ru_utime + ru.ru_stime)
PY
)
  w1=$(oncpu_ns "$worker_pid")
  awk -v o="$out" -v w0="$w0" -v w1="$w1" 'BEGIN { split(o, f, " ");
    printf "%.2f %.3f\n", f[1], ((w1 - w0) / 1e9 + f[3]) * 1e6 / f[2] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b / a }'; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "== 1. nginx + wrk over loopback: $rounds rounds of ${secs}s per variant, medians"
echo "   (req/s ratio = with probe / without; CPU ratio = CPU per request without / with)"
# Two phases, so every run follows a run of its own kind (a one-per-request run leaves tens of
# thousands of TIME_WAIT sockets that slow whatever runs next), and the order of the variants
# flips every round, so drift on a shared machine falls on each of them alike.
declare -A ka cl
# VARIANT LOAD-ARGS...: none, probe (default config: tp_btf), raw (the raw_tp fallback), hooks
# (per-call hooks) or again (no probe either: none against again is this machine's noise floor).
run_variant() {
  local v=$1; shift
  case "$v" in
    probe) start_probe ;;
    raw) start_probe "$work/sp-raw-tp.yaml" ;;
    hooks) start_probe "$work/sp-per-call.yaml" ;;
  esac
  local t0 s0 r t1 s1
  local probed=true; case "$v" in none | again) probed=false ;; esac
  $probed && { t0=$(cpu_ticks "$probe_pid"); s0=$(date +%s.%N); }
  r=$(load "$@")
  if $probed; then
    t1=$(cpu_ticks "$probe_pid"); s1=$(date +%s.%N)
    # The daemon's CPU during one-per-request load (to a file: this runs in a subshell).
    if [ $# -gt 0 ] && [ "$v" = probe ]; then echo "$((t1 - t0)) $s0 $s1" >>"$work/daemon-cpu"; fi
    stop_probe
  fi
  echo "$r"
}
for round in $(seq "$rounds"); do
  order=(none probe hooks); [ $((round % 2)) -eq 0 ] && order=(hooks probe none)
  line="round $round keep-alive (req/s CPU-us/request):"
  for v in "${order[@]}"; do r=$(run_variant "$v"); ka[$v]+="$r;"; line+=" $v $r,"; done
  echo "$line"
done
for round in $(seq "$rounds"); do
  order=(none probe raw again); [ $((round % 2)) -eq 0 ] && order=(again raw probe none)
  line="round $round one per request (req/s CPU-us/request):"
  for v in "${order[@]}"; do r=$(run_variant "$v" -H "Connection: close"); cl[$v]+="$r;"; line+=" $v $r,"; done
  echo "$line"
done
med() { echo "$2" | tr ';' '\n' | grep . | awk -v c="$1" '{print $c}' | median; }  # COLUMN LIST
# Median over rounds of each round's own ratio: the two runs of a round are seconds apart, so a
# neighbour's burst on this shared VM moves both (a ratio of the two medians mixes rounds).
paired() {  # COLUMN BASE-LIST PROBE-LIST INVERT
  paste -d' ' <(echo "$2" | tr ';' '\n' | grep .) <(echo "$3" | tr ';' '\n' | grep .) |
    awk -v c="$1" -v inv="$4" '{n = split($0, f, " "); h = n / 2;
      printf "%.4f\n", inv ? f[c] / f[h + c] : f[h + c] / f[c]}' | median
}
report() {  # NAME BASE-LIST PROBE-LIST TARGET
  local b p cb cp
  b=$(med 1 "$2"); p=$(med 1 "$3"); cb=$(med 2 "$2"); cp=$(med 2 "$3")
  echo "$1: $b -> $p req/s, paired ratio $(paired 1 "$2" "$3" 0) (of medians $(ratio "$b" "$p")); $cb -> $cp CPU us/request, paired ratio $(paired 2 "$2" "$3" 1)   $4"
}
report "keep-alive                         " "${ka[none]}" "${ka[probe]}" "(target >= 0.99)"
report "keep-alive, per-call hooks (opt-in)" "${ka[none]}" "${ka[hooks]}" ""
report "one per request                    " "${cl[none]}" "${cl[probe]}" "(target >= 0.95)"
report "one per request, raw_tp fallback   " "${cl[none]}" "${cl[raw]}" ""
report "one per request, no probe either   " "${cl[none]}" "${cl[again]}" "(A/A: the noise floor)"
cl_probe=$(med 1 "${cl[probe]}")
cpu_t=$(awk '{t += $1} END {print t}' "$work/daemon-cpu")
cpu_s=$(awk '{s += $3 - $2} END {print s}' "$work/daemon-cpu")

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
call_s=$(curl -s -o /dev/null -w '%{time_total}' --unix-socket "$work/sp.sock" \
  -H "Authorization: Bearer $(cat "$work/token")" "http://x/network_tracer/connections?client_id=bench")
wait "${holders[@]}" || true
awk -v b="$base_rss" -v r="$rss" -v m="$memlock" -v e="$entries" -v f="$full" 'BEGIN {
  printf "tracked %d (not tracked, map full: %d); RSS %d KiB (idle %d KiB) + BPF maps %d KiB = %.1f MiB (target < 64 MiB), ratio to target %.2f\n",
  e, f, r, b, m, (r + m) / 1024, (r + m) / 1024 / 64 }'
echo "a connections call with $entries open connections (each refreshed from the kernel): ${call_s} s"
stop_probe

echo "== 4. cost of each BPF program per call (kernel.bpf_stats_enabled, ${secs}s): keep-alive with the"
echo "   default and per-call hooks, one per request (per connection) with tp_btf and raw_tp"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for pass in "sp keep-alive" "sp-per-call keep-alive" "sp one-per-request" "sp-raw-tp one-per-request"; do
  read -r cfg kind <<<"$pass"
  echo "-- $cfg, $kind"
  start_probe "$work/$cfg.yaml"
  # The request count comes from wrk (requests/s x seconds).
  if [ "$kind" = keep-alive ]; then reqs=$(load | awk -v s="$secs" '{printf "%d", $1 * s}')
  else reqs=$(load -H "Connection: close" | awk -v s="$secs" '{printf "%d", $1 * s}'); fi
  # The daemon's own programs: the prog ids behind its file descriptors.
  ids=$(cat /proc/"$probe_pid"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | tr '\n' ' ')
  bpftool prog show -j | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[2].split()}
reqs = float(sys.argv[1])
for p in json.load(sys.stdin):
    if p["id"] not in ids:
        continue
    n, t = p.get("run_cnt", 0), p.get("run_time_ns", 0)
    print("%-16s %10d calls %6.2f per request %7.1f ns/call %7.1f ns/request" % (p["name"], n, n / reqs, t / n if n else 0, t / reqs))
' "$reqs" "$ids"
  stop_probe
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
