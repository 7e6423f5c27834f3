#!/usr/bin/env bash
# Benchmarks of cnm-probe (on demand, never in CI), each a ratio against a baseline run in the
# same invocation:
#   1. nginx + wrk over loopback, keep-alive and one connection per request, without and with
#      the probe (targets: <= 1% and <= 5% fewer requests/s); keep-alive also with the opt-in
#      per-call hooks (network_config.per_call_hooks), one-per-request also with the raw_tp
#      fallback (hook_set: raw_tp), and both with the opt-in DNS monitoring through each of its
#      sources (network_config.dns_source): dns, the cgroup programs (each packet runs one at
#      its socket), and dnspkt, the packet socket (its packet tap clones every transmitted
#      packet), to show what they cost; one-per-request also runs "again"
#      without the probe: that A/A ratio shows what the method reads when nothing differs.
#      Many short windows, every variant once per round, the order reversed every other round;
#      ratios.py gives the median of the rounds' ratios with a 95% interval (bootstrap), and the
#      windows are kept in BUILD_DIR/bench_probe_windows.txt to be read again;
#   2. the daemon's CPU per 10k new connections/s (from the one-per-request run);
#      also with a client reading every connection (a call a second);
#   3. memory at 65536 tracked connections: RSS plus BPF map memory (target < 64 MiB), at rest
#      and at its peak while a client's calls are served, and how long a connections call takes
#      there (it refreshes every entry's kernel counters);
#   4. the cost of each BPF program per call and per request or connection
#      (kernel.bpf_stats_enabled, in a separate pass: the statistics cost a little per call),
#      DNS monitoring's cgroup programs included (the dns variant, one per request);
#   5. the kernel side alone under one continuous one-per-request load: kernel_toggle attaches
#      and detaches the daemon's state program in alternating 0.5-s phases and compares the
#      connections accepted (a pair of phases is a second apart, not the few seconds between two
#      windows of section 1, and no daemon start or stop falls in them); with AGAINST (a folder
#      holding another build's tcp_tracer.bpf.o, e.g. main's), then also this build's state
#      program against that one's, phase by phase: the change's own effect, in one run. RUNG
#      (default tp_btf) picks the ladder's rung whose state program is toggled, e.g. raw_tp.
#      Last, a short pass with kernel.bpf_stats_enabled prints the state program's own time per
#      run (and the other build's): finer than the request rate for telling two builds apart.
# nginx runs on CPU 1 and wrk on CPU 0 (when there are two), so the rounds compete less with
# each other and the ratio is steadier; the probe's programs run on whichever CPU does the I/O.
# It first prints the machine it ran on: CPU model, kernel, and the CPU vulnerability
# mitigations (/sys/devices/system/cpu/vulnerabilities): on CPUs that need return-stack or
# indirect-branch mitigations every kernel call and return the programs make costs more, so
# figures from two machines are told apart by this header (bench/probe/RESULTS.md keeps one row
# per machine).
# Usage: bench/probe/bench_probe.sh BUILD_DIR [SECONDS] [ROUNDS] [PAIRS] [SECTIONS] [AGAINST] [RUNG] (root;
# installs nginx-light and wrk; defaults: 2-second windows, 20 rounds, 300 pairs in section 5,
# every section (1,2,3,4,5), about 16 minutes in all). SECTIONS runs a subset, e.g. 4,5 (the
# programs' cost and the kernel side alone, about 6 minutes); section 2 needs section 1.
set -euo pipefail
usage="usage: $0 BUILD_DIR [SECONDS] [ROUNDS] [PAIRS] [SECTIONS] [AGAINST] [RUNG]"
build=${1:?$usage}
secs=${2:-2}  # whole seconds: wrk takes no fractions
rounds=${3:-20}
pairs=${4:-300}
sections=",${5:-1,2,3,4,5},"
against=${6:-}
rung=${7:-tp_btf}  # section 5's
[ -z "$against" ] || [ -f "$against/tcp_tracer.bpf.o" ] ||
  { echo "AGAINST: no tcp_tracer.bpf.o in $against" >&2; exit 2; }
want() { [[ $sections == *",$1,"* ]]; }
[[ $sections =~ ^,([1-5],)+$ ]] || { echo "SECTIONS: numbers 1 to 5, comma-separated ($usage)" >&2; exit 2; }
if want 2 && ! want 1; then echo "section 2 needs section 1 (its windows)" >&2; exit 2; fi
probe="$build/probe/cnm-probe"
[ "$(id -u)" -eq 0 ] || { echo "run as root (loads eBPF)" >&2; exit 2; }
[ -x "$probe" ] || { echo "no $probe: build first" >&2; exit 2; }
for p in nginx-light wrk; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done

# The machine, so that figures from two machines are never mixed up.
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "== machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "   mitigations (/sys/devices/system/cpu/vulnerabilities; the rest: Not affected):"
for f in /sys/devices/system/cpu/vulnerabilities/*; do
  [ -r "$f" ] || continue
  v=$(cat "$f")
  [ "$v" = "Not affected" ] || echo "   $(basename "$f"): $v"
done
echo "== sections${sections//,/ }: ${secs}s windows, $rounds rounds, $pairs pairs in section 5"

work=$(mktemp -d /tmp/cnm-bench-XXXXXX)
nginx_pid=""; probe_pid=""
cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null || true
  # A window runs in a subshell, so its daemon's pid is not known here: find it by its config.
  pkill -f -- "--config $work/" 2>/dev/null || true
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
printf 'network_config:\n  hook_set: raw_tp\n' >>"$work/sp-raw-tp.yaml"
# Each DNS source forced, so a host where the cgroup one cannot run stops here instead of
# measuring the fallback twice.
cp "$work/sp.yaml" "$work/sp-dns.yaml"
printf 'network_config:\n  dns_monitoring: true\n  dns_source: cgroup_skb\n' >>"$work/sp-dns.yaml"
cp "$work/sp.yaml" "$work/sp-dns-pkt.yaml"
printf 'network_config:\n  dns_monitoring: true\n  dns_source: packet_socket\n' >>"$work/sp-dns-pkt.yaml"
start_probe() {  # [CONFIG]
  "$probe" --config "${1:-$work/sp.yaml}" -q 2>"$work/probe.log" & probe_pid=$!
  for _ in $(seq 100); do [ -S "$work/sp.sock" ] && return; sleep 0.1; done
  echo "cnm-probe did not start: $(cat "$work/probe.log")" >&2; exit 1
}
stop_probe() { kill "$probe_pid"; wait "$probe_pid" || true; probe_pid=""; }
# CPU time of a process, all its threads, in ns (scheduler accounting: no tick rounding).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }
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
here=$(cd "$(dirname "$0")" && pwd)
windows="$work/windows"  # PHASE-VARIANT ROUND REQ/S CPU-US/REQUEST, one line per window

if want 1; then
echo "== 1. nginx + wrk over loopback: $rounds rounds of ${secs}s windows per variant"
echo "   (req/s ratio = with probe / without; CPU ratio = CPU per request without / with)"
# Two phases, so every run follows a run of its own kind (a one-per-request run leaves tens of
# thousands of TIME_WAIT sockets that slow whatever runs next), each after one unmeasured
# window, and the order of the variants flips every round, so drift falls on each alike.
# VARIANT LOAD-ARGS...: none, probe (default config: tp_btf), raw (the raw_tp fallback), hooks
# (per-call hooks), dns (DNS monitoring on, the cgroup source), dnspkt (DNS monitoring on, the
# packet socket) or again (no probe either).
run_variant() {
  local v=$1; shift
  case "$v" in
    probe) start_probe ;;
    raw) start_probe "$work/sp-raw-tp.yaml" ;;
    hooks) start_probe "$work/sp-per-call.yaml" ;;
    dns) start_probe "$work/sp-dns.yaml" ;;
    dnspkt) start_probe "$work/sp-dns-pkt.yaml" ;;
  esac
  local t0 s0 r t1 s1
  local probed=true; case "$v" in none | again) probed=false ;; esac
  $probed && { t0=$(cpu_ns "$probe_pid"); s0=$(date +%s.%N); }
  r=$(load "$@")
  if $probed; then
    t1=$(cpu_ns "$probe_pid"); s1=$(date +%s.%N)
    # The daemon's CPU during one-per-request load (to a file: this runs in a subshell).
    if [ "$v" = probe ]; then
      if [ $# -gt 0 ]; then echo "$((t1 - t0)) $s0 $s1" >>"$work/daemon-cpu"
      else echo "$((t1 - t0)) $s0 $s1" >>"$work/daemon-cpu-keep-alive"; fi
    fi
    stop_probe
  fi
  echo "$r"
}
phase() {  # NAME "VARIANTS..." LOAD-ARGS...
  local name=$1; local -a variants
  read -ra variants <<<"$2"; shift 2
  load "$@" >/dev/null  # warm-up
  for round in $(seq "$rounds"); do
    local order=("${variants[@]}") line="round $round $name (req/s CPU-us/request):"
    if [ $((round % 2)) -eq 0 ]; then
      order=(); for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
    fi
    for v in "${order[@]}"; do
      r=$(run_variant "$v" "$@"); echo "$name-$v $round $r" >>"$windows"; line+=" $v $r,"
    done
    echo "$line"
  done
  cp "$windows" "$build/bench_probe_windows.txt"  # kept even if a later step fails
}
phase keep-alive "none probe hooks dns dnspkt"
phase one-per-request "none probe raw dns dnspkt again" -H "Connection: close"
report() {  # LABEL PHASE VARIANT TARGET
  local r
  r=$(python3 "$here/ratios.py" "$windows" "$2-none" "$2-$3")  # a failure stops the script
  echo "$1: $r   $4"
}
report "keep-alive                         " keep-alive probe "(target >= 0.99)"
report "keep-alive, per-call hooks (opt-in)" keep-alive hooks ""
report "keep-alive, DNS, cgroup programs   " keep-alive dns ""
report "keep-alive, DNS, packet socket     " keep-alive dnspkt ""
report "one per request                    " one-per-request probe "(target >= 0.95)"
report "one per request, raw_tp fallback   " one-per-request raw ""
report "one per request, DNS, cgroup progs " one-per-request dns ""
report "one per request, DNS, packet socket" one-per-request dnspkt ""
report "one per request, no probe either   " one-per-request again "(A/A: reads 1 when nothing differs)"
cl_probe=$(awk '$1 == "one-per-request-probe" {print $3}' "$windows" | sort -n |
  awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')  # the median window's req/s
cpu_t=$(awk '{t += $1} END {print t}' "$work/daemon-cpu")
cpu_s=$(awk '{s += $3 - $2} END {print s}' "$work/daemon-cpu")

fi  # section 1
if want 2; then
echo "== 2. daemon CPU per 10k new connections/s (during the one-per-request runs)"
awk -v t="$cpu_t" -v s="$cpu_s" -v r="$cl_probe" 'BEGIN {
  cpu = t / 1e9 / s; printf "daemon CPU %.2f%% of one core at %.0f new connections/s = %.2f%% per 10k/s\n",
  100 * cpu, r, 100 * cpu * 10000 / r }'
# Keep-alive opens no connection, so no program runs per request (section 4): what the probe
# takes there is its daemon's CPU, measured directly, as a share of the machine's.
awk -v n="$(nproc)" '{t += $1; s += $3 - $2} END {
  printf "keep-alive (no new connections): daemon CPU %.3f%% of one core, %.4f%% of the machine\n",
  100 * t / 1e9 / s, 100 * t / 1e9 / s / n }' "$work/daemon-cpu-keep-alive"

# The daemon's CPU when a client reads every connection: one call a second, so no closed
# connection is evicted unread (the agent reads every 30 s, and at these rates its buffer of
# 65536 lets most go unread: this is the most the reads can cost).
start_probe
token=$(cat "$work/token")
( while kill -0 "$probe_pid" 2>/dev/null; do curl -s -o /dev/null --unix-socket "$work/sp.sock" -H "Authorization: Bearer $token" \
    "http://x/network_tracer/connections?client_id=bench-reader"; sleep 1; done ) &
reader=$!
t0=$(cpu_ns "$probe_pid"); s0=$(date +%s.%N)
r=$(load -H "Connection: close"; load -H "Connection: close"; load -H "Connection: close")
t1=$(cpu_ns "$probe_pid"); s1=$(date +%s.%N)
kill "$reader"; wait "$reader" 2>/dev/null || true
stop_probe
rps_read=$(echo "$r" | awk '{s += $1} END {print s / NR}')
awk -v t=$((t1 - t0)) -v a="$s0" -v b="$s1" -v r="$rps_read" 'BEGIN {
  cpu = t / 1e9 / (b - a); printf "with a client reading every connection (a call a second): daemon CPU %.2f%% of one core at %.0f new connections/s = %.2f%% per 10k/s\n",
  100 * cpu, r, 100 * cpu * 10000 / r }'

fi  # section 2
if want 3; then
echo "== 3. memory at 65536 tracked connections (4 holders x 8192 connections, both ends), with the"
echo "   closed buffer full as well (65536: no client read the 68000 closed just before)"
start_probe
token=$(cat "$work/token")
# The closed buffer first: once the map is full, new connections are not tracked. The server
# side closes first, so its TIME_WAIT keeps no client port.
python3 - <<'PY'
import socket
srv = [socket.socket() for _ in range(2)]
for s in srv: s.bind(("127.0.0.1", 0)); s.listen(4096)
for i in range(34000):
    s = srv[i % 2]
    c = socket.create_connection(s.getsockname()); a, _ = s.accept(); a.close(); c.close()
PY
sleep 0.5
ulimit -n "$(ulimit -Hn)"
holders=()
for _ in 1 2 3 4; do
  python3 - <<'PY' &
import socket, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4096)
port = srv.getsockname()[1]; keep = []
for i in range(8192):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = srv.accept(); keep += [c, a]
time.sleep(16)
PY
  holders+=($!)
done
sleep 9
# RSS counts the ring buffer's pages where the daemon maps them (twice: the ring is mapped
# double so records can wrap), and they are the map's own memory, counted with the maps: RSS is
# taken without those mappings.
ring_kib() { awk '/^[0-9a-f]+-[0-9a-f]+ / {m = ($6 == "anon_inode:bpf-map")} m && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$probe_pid/smaps"; }
rss=$(awk '/VmRSS/ {print $2}' "/proc/$probe_pid/status")
memlock=$(cat /proc/"$probe_pid"/fdinfo/* 2>/dev/null | awk '/^memlock:/ {s += $2} END {print s / 1024}')
stats=$(curl -s --unix-socket "$work/sp.sock" -H "Authorization: Bearer $token" http://x/debug/stats)
entries=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn_map_entries_current"])')
full=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn_map_full"])')
closed_kept=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["closed_buffered"])')
# The peak while serving: the high-water mark reset, then a client's first call (every open
# and every closed connection in full: the largest reply there is) and, 1.5 s later, its
# second (the open ones' deltas).
echo 5 >"/proc/$probe_pid/clear_refs"
call() { curl -s -o /dev/null -w '%{time_total}' --unix-socket "$work/sp.sock" \
  -H "Authorization: Bearer $token" "http://x/network_tracer/connections?client_id=bench"; }
call_s=$(call); sleep 1.5; call_s2=$(call)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$probe_pid/status")
ring=$(ring_kib)
wait "${holders[@]}" || true
awk -v r="$rss" -v h="$hwm" -v g="$ring" -v m="$memlock" -v e="$entries" -v f="$full" -v k="$closed_kept" 'BEGIN {
  printf "tracked %d (not tracked, map full: %d), closed buffered %d; BPF maps %d KiB (the ring buffer included)\n", e, f, k, m
  printf "at rest:                    RSS %d KiB (without the ring'"'"'s %d KiB) + maps = %.1f MiB\n", r - g, g, (r - g + m) / 1024
  printf "peak, serving two calls:    RSS %d KiB + maps = %.1f MiB (target < 64 MiB), ratio to target %.2f\n",
    h - g, (h - g + m) / 1024, (h - g + m) / 1024 / 64 }'
echo "a first call with $entries open (each refreshed from the kernel) and $closed_kept closed connections: ${call_s} s; the same client again (the open ones): ${call_s2} s"
stop_probe

fi  # section 3
if want 4; then
echo "== 4. cost of each BPF program per call (kernel.bpf_stats_enabled, ${secs}s): keep-alive with the"
echo "   default and per-call hooks, one per request (per connection) with tp_btf, raw_tp and DNS"
echo "   monitoring's cgroup programs (dns_tap_egress, dns_tap_ingress: one run each per packet)"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for pass in "sp keep-alive probe" "sp-per-call keep-alive hooks" "sp one-per-request probe" \
  "sp-raw-tp one-per-request raw" "sp-dns one-per-request dns"; do
  read -r cfg kind variant <<<"$pass"
  # The CPU per request of this variant's median window in section 1, to put the programs' time
  # against (the snapshot runs once at start, so it is left out of the total).
  cpu_req=$( (cat "$windows" 2>/dev/null || true) | awk -v v="$kind-$variant" '$1 == v {print $4}' |
    sort -n | awk 'NR {v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}')
  echo "-- $cfg, $kind"
  start_probe "$work/$cfg.yaml"
  # The request count comes from wrk (requests/s x seconds).
  if [ "$kind" = keep-alive ]; then r=$(load); else r=$(load -H "Connection: close"); fi
  reqs=$(echo "$r" | awk -v s="$secs" '{printf "%d", $1 * s}')
  # Without section 1, this window's own CPU per request (the statistics' cost included).
  [ -n "$cpu_req" ] || cpu_req=$(echo "$r" | awk '{print $2}')
  # The daemon's own programs: the prog ids behind its file descriptors.
  ids=$(cat /proc/"$probe_pid"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | tr '\n' ' ')
  bpftool prog show -j | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[2].split()}
reqs, cpu_us = float(sys.argv[1]), float(sys.argv[3])
total = 0
for p in json.load(sys.stdin):
    if p["id"] not in ids:
        continue
    n, t = p.get("run_cnt", 0), p.get("run_time_ns", 0)
    if not p["name"].startswith("snapshot"):  # snapshot or snapshot_slots: once, at start
        total += t / reqs
    print("%-16s %10d calls %6.2f per request %7.1f ns/call %7.1f ns/request" % (p["name"], n, n / reqs, t / n if n else 0, t / reqs))
print("per request, all programs but the snapshot: %.1f ns = %.2f%% of the %.1f us of CPU per request"
      " (the statistics included)" % (total, total / 10 / cpu_us, cpu_us))
' "$reqs" "$ids" "$cpu_req"
  stop_probe
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"

fi  # section 4
if want 5; then
echo "== 5. the kernel side alone ($rung): the state program attached / detached in turns, $pairs pairs of"
echo "   0.5-s phases under one wrk run (one connection per request); accepted connections per phase"
toggle="$build/bench/probe/kernel_toggle"
[ -x "$toggle" ] || { echo "no $toggle: build it first" >&2; exit 2; }
runs=1; [ -z "$against" ] || runs=2
stats_pairs=30  # the time-per-run pass
# wrk is killed once the toggles are done: its duration only has to outlast them. A pair takes
# 1.1 s plus two attaches and detaches, and each run first loads its objects: on a loaded machine
# that took longer than the 1.2 s a pair once budgeted, wrk ended first, and a phase saw no
# connection ("no connections accepted in a phase"). Hence a wide margin.
"${pin_client[@]}" wrk -t 1 -c 32 -d "$((runs * (pairs * 3 + 60) + stats_pairs * 3 + 60))s" -H "Connection: close" \
  "http://127.0.0.1:$port/" >/dev/null & wrk_pid=$!
sleep 2
"$toggle" 500 "$pairs" "$rung" >"$work/toggle.txt"
[ -z "$against" ] || "$toggle" 500 "$pairs" "$rung" --against "$against" >"$work/toggle-against.txt"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
"$toggle" 500 "$stats_pairs" "$rung" ${against:+--against "$against"} >"$work/toggle-stats.txt" ||
  { sysctl -qw kernel.bpf_stats_enabled="$stats_was"; exit 1; }
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
kill "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null || true
cp "$work/toggle.txt" "$build/bench_probe_toggle.txt"
tail -1 "$work/toggle.txt"
if [ -n "$against" ]; then
  cp "$work/toggle-against.txt" "$build/bench_probe_toggle_against.txt"
  tail -1 "$work/toggle-against.txt"
fi
tail -1 "$work/toggle-stats.txt"
fi  # section 5
