#!/usr/bin/env python3
"""The daemon's memory for per-client state (on demand, root, under the bench and root-tests
locks): 9000 loopback connections held open (18000 sockets), one client_id called, then 200
others (one token holder cycling client_ids), then the sockets closed and the first client
called again. Prints RSS (/proc) and /debug/stats' client counters at each step.

Usage: bench/probe/client_ids_mem.py PATH_TO_CNM_PROBE
"""
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time


def main():
    probe = sys.argv[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    with tempfile.TemporaryDirectory() as d:
        sock, tok = os.path.join(d, "s.sock"), os.path.join(d, "tok")
        with open(os.path.join(d, "sp.yaml"), "w") as f:
            f.write(f"auth_token_file_path: {tok}\nsystem_probe_config:\n  sysprobe_socket: {sock}\n")
        p = subprocess.Popen([probe, "--config", os.path.join(d, "sp.yaml")],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "log"), "w"))
        try:
            for _ in range(200):
                if os.path.exists(sock) and os.path.exists(tok):
                    break
                time.sleep(0.1)
            time.sleep(1)
            run(p.pid, sock, open(tok).read().strip().encode())
        finally:
            p.terminate()
            p.wait()


def run(pid, sock, token):
    def get(path):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(b"GET %s HTTP/1.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n"
                  % (path.encode(), token))
        out = b""
        while True:
            piece = s.recv(1 << 16)
            if not piece:
                return out
            out += piece

    def report(what):
        rss = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0]
        st = json.loads(get("/debug/stats").split(b"\r\n\r\n", 1)[1])
        keys = ["clients", "clients_evicted", "clients_refused", "client_state_bytes_current"]
        print(f"{what}: RSS {rss} kB;", ", ".join(f"{k} {st.get(k)}" for k in keys))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    keep = []
    for _ in range(9000):
        c = socket.socket()
        c.connect(listener.getsockname())
        keep += [c, listener.accept()[0]]
    time.sleep(1)
    get("/network_tracer/connections?client_id=agent")
    report("one client")
    for i in range(200):
        get(f"/network_tracer/connections?client_id=x{i}")
    report("after 200 other client_ids")
    for c in keep:
        c.close()
    time.sleep(3)
    report("18000 sockets closed, 3 s later")
    get("/network_tracer/connections?client_id=agent")
    time.sleep(2)
    report("the first client called again, 2 s later")


if __name__ == "__main__":
    main()
