#!/usr/bin/env python3
"""A DNS responder for the SELinux VM (guest/selinux.sh): the guest has no network and no DNS
server package, so this answers the resolver's queries on ADDRESS:PORT (UDP) itself. Each A
query gets one answer, 192.0.2.1 (TEST-NET-1), any other type NOERROR with no answer; the
answer repeats the query's id and question, as a real server's does, so the probe can match
it to its query. Runs until killed; writes one line per query to stdout.
Usage: dns_responder.py ADDRESS PORT"""
import socket
import struct
import sys


def question_end(msg):
    """The offset after the first question's name, type and class, or None."""
    i = 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return i + 5 if i + 5 <= len(msg) else None
        if n & 0xC0:
            return None  # a query's question is never compressed
        i += 1 + n
    return None


def answer(msg):
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if flags & 0x8000 or qdcount != 1:
        return None  # an answer, or not one question
    end = question_end(msg)
    if end is None:
        return None
    qtype = struct.unpack("!H", msg[end - 4:end - 2])[0]
    rd = flags & 0x0100
    header = struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 1 if qtype == 1 else 0, 0, 0)
    out = header + msg[12:end]
    if qtype == 1:  # A: a pointer to the question's name, A IN, TTL 60, 4 bytes
        out += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([192, 0, 2, 1])
    return out, qtype


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    print("listening", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        a = answer(msg)
        if a is None:
            continue
        s.sendto(a[0], peer)
        print("answered type", a[1], "from", peer, flush=True)


if __name__ == "__main__":
    main()
