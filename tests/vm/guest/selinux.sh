#!/bin/bash
# In the SELinux VM (6.1, systemd boot, enforcing; vm-run --systemd --selinux): the cnmkit
# package installed with dpkg, then `cnmctl selinux install` and `cnmctl install` as an admin
# would, and checks that the probe started by its unit runs confined in its own domain, loaded
# and attached its programs (a loopback connection shows up in its reply), serves its socket
# to a client in the socket's group, and that no AVC denial names the probe's domain. Then
# uninstall and `cnmctl selinux remove` must leave the module list and the policy as they were.
# Names and paths (unit, binary, socket, group) are read from cnmctl and the running system,
# never assumed. Permissive (vm-run --permissive): dontaudit rules are switched off first
# (semodule -DB) and every denial is listed, to gather what the module must grant.
# Prints PASS/FAIL lines; exits 1 when any check fails.
set -u
out=${CNMVM_OUT:-/cnmvm/out}
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {  # DESCRIPTION COMMAND...: pass when COMMAND succeeds
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[int(k)] if isinstance(d, list) else d.get(k)
print("" if d is None else d)' "$@"; }
# Every denial of this boot, from the kernel log and from the journal's audit records (the
# kernel log drops some when they come in bursts).
avc_now() { { dmesg; journalctl -q -b _TRANSPORT=audit --no-pager; } | grep 'avc: *denied' | sort -u; }
policy_state() {  # the module list and the hashes of the policy file and of the loaded policy
  semodule -l | sort
  sha256sum /etc/selinux/default/policy/policy.* | cut -d' ' -f1
  sha256sum /sys/fs/selinux/policy | cut -d' ' -f1
}

mode=$(getenforce)
echo "SELinux: $mode, kernel $(uname -r)"
permissive=
if [ "$mode" = Permissive ]; then
  permissive=1
  semodule -DB || fail "semodule -DB"
else
  expect "SELinux is enforcing" test "$mode" = Enforcing
fi
pid1=$(tr -d '\0' </proc/1/attr/current)
echo "systemd runs in $pid1, this script in $(tr -d '\0' </proc/self/attr/current)"
expect "systemd (PID 1) runs in init_t, as on a host that boots enforcing" \
  test "$(echo "$pid1" | cut -d: -f3)" = init_t
policy_state >"$out/policy-before.txt"

dpkg -i "$out"/cnmkit*.deb >"$out/dpkg.log" 2>&1
expect "the cnmkit package installs" test $? -eq 0
# The Datadog Agent would create its group; the installer expects it (as in the nspawn test).
getent group dd-agent >/dev/null || groupadd --system dd-agent

# A policy source given to selinux_test.sh --policy replaces the packaged module.
policy=()
for te in "$out"/*.te; do [ -f "$te" ] && policy=(--policy "$te"); done
t0=$(date +%s)
cnmctl selinux install "${policy[@]}" --json >"$out/selinux-install.json" 2>"$out/selinux-install.err"
rc=$?
expect "cnmctl selinux install exits 0 ($(($(date +%s) - t0)) s)" test $rc -eq 0
cat "$out/selinux-install.json" "$out/selinux-install.err"
module=$(json "$out/selinux-install.json" module)
expect "module $module is in the running policy" grep -qx "$module" <(semodule -l)

# cnmctl install writes the probe's binary, then labels it (its own SELinux step: the kernel
# has SELinux on), before it starts the service.
cnmctl install --json >"$out/install.json" 2>"$out/install.err"
expect "cnmctl install exits 0" test $? -eq 0
cat "$out/install.err"
cnmctl selinux status --json >"$out/selinux-status.json"
binary=$(json "$out/selinux-status.json" binary)
bin_ctx=$(json "$out/selinux-status.json" binary_context)
domain=$(echo "$bin_ctx" | cut -d: -f3)
echo "binary $binary labelled $bin_ctx"
expect "the probe binary is labelled system_probe_t" test "$domain" = system_probe_t
cnmctl status --json >"$out/status.json"
cat "$out/status.json"
service=$(json "$out/status.json" service name)
expect "cnmctl status knows the probe's service ($service)" test -n "$service"
# cnmctl install runs `cnmctl selinux install` itself when it writes the binary, which puts the
# packaged module in place of one given with --policy (their bytes differ): the given one goes
# back in, and the probe starts again under it, so every check below runs under it.
if [ ${#policy[@]} -gt 0 ]; then
  cnmctl selinux install "${policy[@]}" --json >"$out/selinux-install-again.json" 2>&1
  expect "the --policy module is back in after cnmctl install" test $? -eq 0
  grep -h '"install\|"replace\|"module' "$out/selinux-install-again.json"
  expect "the probe restarts under the --policy module" systemctl restart "$service"
fi
pid=$(systemctl show -p MainPID --value "$service")
expect "the service $service runs (pid $pid)" test "${pid:-0}" -gt 0
proc_ctx=$(tr -d '\0' <"/proc/$pid/attr/current" 2>/dev/null)
echo "probe pid $pid: $(readlink "/proc/$pid/exe") in $proc_ctx"
expect "the probe runs in the binary's domain $domain (NoNewPrivileges needs nnp_transition)" \
  test "$(echo "$proc_ctx" | cut -d: -f3)" = "$domain"
expect "the health check passes" test "$(json "$out/status.json" health ok)" = True

# The socket the probe listens on, its group, and a client that is only in that group.
sock=$(ss -xlpn | awk -v p="pid=$pid," 'index($0, p) { print $5; exit }')
group=$(stat -c %G "$sock")
echo "socket $sock, group $group"
expect "the probe listens on a unix socket" test -S "$sock"
useradd --system --no-create-home --gid "$group" cnmvm-client
# The token the probe created at its start (wherever the layout puts it).
read_token() { find /etc /opt /var/lib -name auth_token -newer "$out/cmd.sh" -exec cat {} \; 2>/dev/null | head -1; }
token=$(read_token)
client() {  # PATH: GET over the socket as the client (not root, no capabilities); prints the
  # body, then the HTTP status on a line of its own (the client cannot write to the out folder)
  setpriv --reuid=cnmvm-client --regid="$group" --init-groups --inh-caps=-all --bounding-set=-all \
    curl -s -w '\n%{http_code}' --unix-socket "$sock" -H "Authorization: Bearer $token" "http://probe$1"
}
expect "a client in group $group gets /health 200" test "$(client /health | tail -1)" = 200
python3 -m http.server 18080 --bind 127.0.0.1 --directory /usr/share/doc >/dev/null 2>&1 &
server=$!
for _ in $(seq 60); do  # python starts slowly under emulation
  curl -s -o /dev/null http://127.0.0.1:18080/ && break
  sleep 0.5
done
kill $server
# reports_port_18080 CLIENT_ID FILE: within 20 s, the probe's connections (saved in FILE) hold one
# to port 18080.
reports_port_18080() {
  for _ in $(seq 20); do
    client "/network_tracer/connections?client_id=$1" >"$2"
    grep -q '"rport": *18080' "$2" && return 0
    sleep 1
  done
  return 1
}
expect "the probe's programs are attached: a loopback connection is reported" \
  reports_port_18080 vm "$out/connections.txt"

# Kernels before 3.17 have no memfd_create (CentOS/RHEL 7's 3.10): there the probe hands libbpf
# its BTF through a temp file in the unit's private /tmp, which the module must allow too.
# systemd's own seccomp filter takes the call away here as such a kernel would; the probe must
# say it used the temp file, start, and attach again, still without a denial (checked below).
dropin=/run/systemd/system/${service%.service}.service.d
mkdir -p "$dropin"
argv=$(systemctl show -p ExecStart --value "$service" | sed -n 's/.*argv\[\]=\([^;]*\);.*/\1/p')
# -v -v: the probe says which way the BTF went (info) and why (debug).
printf '[Service]\nSystemCallFilter=~memfd_create\nSystemCallErrorNumber=ENOSYS\nExecStart=\nExecStart=%s -v -v\n' \
  "$argv" >"$dropin/no-memfd.conf"
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl daemon-reload
expect "the probe restarts without memfd_create" systemctl restart "$service"
for _ in $(seq 60); do
  token=$(read_token)  # the probe may write a new one at its start
  test "$(client /health | tail -1)" = 200 && break
  sleep 1
done
expect "without memfd_create, /health answers 200 again" test "$(client /health | tail -1)" = 200
journalctl -q -u "$service" --since "$since" --no-pager >"$out/journal-no-memfd.txt"
# It says it used a temp file, and the file held the BTF: where its create is denied, the probe
# falls back to the whole kernel BTF and runs anyway, which would hide a missing rule.
temp_file_used() {
  grep -q 'handing it over through a temp file' "$out/journal-no-memfd.txt" &&
    ! grep -q 'no file to hand its subset over' "$out/journal-no-memfd.txt"
}
expect "without memfd_create, the probe hands its BTF over through a temp file" temp_file_used
temp_file_used ||
  head -40 "$out/journal-no-memfd.txt"
curl -s -o /dev/null http://127.0.0.1:18080/ 2>/dev/null  # nothing listens now: a refused connect
expect "without memfd_create, the programs are attached: a refused connect is reported" \
  reports_port_18080 vm2 "$out/connections-no-memfd.txt"
rm -r "$dropin"
systemctl daemon-reload

# DNS monitoring (opt-in), under each of its sources forced (network_config.dns_source: a
# forced source that cannot run stops the daemon, so a healthy probe proves it runs): the
# cgroup skb programs (bpf links on the cgroup2 root, perf buffers) and the packet socket with
# its filter. The guest has no network: a responder on 127.0.0.1:53 (guest/dns_responder.py)
# answers glibc's resolver (/etc/resolv.conf), and the probe must count the query and its
# answer, without a denial (checked for each source, and again with all the others below).
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >/etc/resolv.conf
python3 "$(dirname "$0")/dns_responder.py" 127.0.0.1 53 >"$out/dns-responder.log" 2>&1 &
responder=$!
for _ in $(seq 60); do
  grep -q listening "$out/dns-responder.log" && break
  sleep 0.5
done
# dns_counted NAME FILE: within 20 s, /network_tracer/dns (saved in FILE) counts one A query for
# NAME to 127.0.0.1:53, answered NOERROR, and no message it could not parse.
dns_counted() {
  for _ in $(seq 20); do
    client /network_tracer/dns | head -n -1 >"$2"
    python3 - "$1" "$2" <<'PY' && return 0
import json, sys
name, reply = sys.argv[1], json.load(open(sys.argv[2]))
e = [e for e in reply["dns"] if (e["server"], e["server_port"], e["domain"], e["query_type"])
     == ("127.0.0.1", 53, name, "A")]
s = reply["stats"]
sys.exit(0 if reply["enabled"] and len(e) == 1 and e[0]["queries"] == 1
         and e[0]["responses"]["noerror"] == 1 and s["dns_packets"] >= 2
         and s["dns_unparsable"] == 0 else 1)
PY
    sleep 1
  done
  return 1
}
dns_source() {  # SOURCE: the probe restarted with DNS monitoring from SOURCE counts a query
  local src=$1 name=$1.selinux.cnm.test
  avc_now >"$out/avc-before-dns-$src.txt"
  cnmctl install --set network_config.dns_monitoring=true --set "network_config.dns_source=$src" \
    --json >"$out/install-dns-$src.json" 2>"$out/install-dns-$src.err"
  expect "cnmctl install with DNS monitoring from $src exits 0 (restarted, healthy)" test $? -eq 0
  pid=$(systemctl show -p MainPID --value "$service")
  expect "with DNS from $src, the probe runs in $domain" \
    test "$(tr -d '\0' <"/proc/$pid/attr/current" 2>/dev/null | cut -d: -f3)" = "$domain"
  for _ in $(seq 60); do
    token=$(read_token)
    test "$(client /health | tail -1)" = 200 && break
    sleep 1
  done
  client /debug/stats | head -n -1 >"$out/debug-stats-dns-$src.json"
  expect "/debug/stats says the DNS source running is $src" \
    test "$(json "$out/debug-stats-dns-$src.json" dns_source name)" = "$src"
  # gethostbyname: one A query. (getent ahostsv4 asks nothing here: its AI_ADDRCONFIG wants an
  # IPv4 address other than loopback, and the guest has no other interface.)
  expect "the resolver gets the responder's answer for $name" \
    test "$(python3 -c 'import socket, sys; print(socket.gethostbyname(sys.argv[1]))' "$name")" = 192.0.2.1
  if dns_counted "$name" "$out/dns-$src.json"; then
    pass "with DNS from $src, /network_tracer/dns counts the query and its answer"
  else
    fail "with DNS from $src, /network_tracer/dns counts the query and its answer"
    cat "$out/dns-$src.json"
  fi
  avc_now | comm -13 "$out/avc-before-dns-$src.txt" - | grep system_probe_t >"$out/avc-dns-$src.txt"
  expect "with DNS from $src, no AVC denial names system_probe_t" test ! -s "$out/avc-dns-$src.txt"
  head -5 "$out/avc-dns-$src.txt"
}
dns_source cgroup_skb
dns_source packet_socket
kill "$responder"
echo "the responder's log:"
cat "$out/dns-responder.log"

cnmctl preflight --json >"$out/preflight.json"
python3 - "$out/preflight.json" <<'PY' || fail "the preflight reports SELinux enforcing with the module loaded"
import json, sys
c = next(c for c in json.load(open(sys.argv[1]))["checks"] if c["id"] == "security.selinux")
print("security.selinux:", c["status"], c["message"])
sys.exit(0 if c["status"] == "pass" and "enforcing" in c["message"] and "is loaded" in c["message"] else 1)
PY

avc_now >"$out/avc.txt"
grep system_probe_t "$out/avc.txt" >"$out/avc-probe.txt"
echo "AVC denials naming system_probe_t: $(wc -l <"$out/avc-probe.txt")"
cat "$out/avc-probe.txt"
if [ -n "$permissive" ]; then
  echo "all denials of this boot:"
  cat "$out/avc.txt"
else
  expect "no AVC denial names system_probe_t" test ! -s "$out/avc-probe.txt"
fi

cnmctl uninstall --json >"$out/uninstall.json" 2>&1
expect "cnmctl uninstall exits 0" test $? -eq 0
cnmctl selinux remove --json >"$out/selinux-remove.json" 2>&1
expect "cnmctl selinux remove exits 0" test $? -eq 0
policy_state >"$out/policy-after.txt"
expect "module list and policy as before install" diff "$out/policy-before.txt" "$out/policy-after.txt"

echo "$fails check(s) failed"
[ "$fails" -eq 0 ]
