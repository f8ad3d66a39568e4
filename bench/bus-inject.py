#!/usr/bin/env python3
"""What a parlor node pays for other nodes' events that none of its sockets needs: with one
Redis channel every node receives every event of the cluster (crates/parlor-server/src/bus/),
so this is the per-node cost that grows with the cluster's total rate, not the node's own.

Publishes envelopes exactly as another node would (`bus/envelope.rs`: version 1, kind 0 = a
logged event, a random origin, the conversation, seq, message seq, no extra users, then a
`chat_message` frame of parlor's size) at a fixed rate for a while, and reads the node's CPU
from /proc before and after. The conversation must exist (the node reads its members once and
caches them) and have no member connected to that node.

    python3 bench/bus-inject.py --redis-port 16391 --pid $(cat node.pid) --conversation 1 \\
        --rate 5000,20000 --seconds 10

Python 3 standard library only.
"""

import argparse
import os
import random
import socket
import struct
import time

CHANNEL = b"parlor:bus"
FRAME_BYTES = 553  # a 100-byte message's chat_message frame (589-byte envelope minus the 36-byte header)


def cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def envelope(origin: int, conversation: int, seq: int) -> bytes:
    frame = (
        b'{"type":"chat_message","conversation_id":%d,"seq":%d,"content":"' % (conversation, seq)
    )
    frame += b"m" * (FRAME_BYTES - len(frame) - 2) + b'"}'
    return struct.pack(">BBQqqqH", 1, 0, origin, conversation, seq, seq, 0) + frame


def publish(sock: socket.socket, payloads):
    out = b"".join(
        b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL, len(p), p) for p in payloads
    )
    sock.sendall(out)
    got = 0
    while got < len(payloads):
        got += sock.recv(65536).count(b"\r\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis-port", type=int, default=6379)
    p.add_argument("--pid", type=int, required=True, help="the receiving node's process")
    p.add_argument("--conversation", type=int, required=True)
    p.add_argument("--rate", default="5000,20000", help="envelopes per second, one run each")
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    sock = socket.create_connection(("127.0.0.1", a.redis_port))
    origin = random.getrandbits(63)
    seq = 1_000_000
    print("envelopes/s  sent   node CPU   node CPU per envelope")
    for rate in [int(x) for x in a.rate.split(",")]:
        idle0, t_idle = cpu(a.pid), time.time()
        time.sleep(2)
        idle = (cpu(a.pid) - idle0) / (time.time() - t_idle)  # the node's own background work
        tick = 0.01
        per_tick = max(1, int(rate * tick))
        c0, t0 = cpu(a.pid), time.time()
        sent = 0
        while time.time() - t0 < a.seconds:
            batch = [envelope(origin, a.conversation, seq + i) for i in range(per_tick)]
            seq += per_tick
            publish(sock, batch)
            sent += per_tick
            sleep = t0 + sent / rate - time.time()
            if sleep > 0:
                time.sleep(sleep)
        time.sleep(0.5)
        wall = time.time() - t0
        used = cpu(a.pid) - c0 - idle * wall
        print(f"{sent / (wall - 0.5):>11,.0f}  {sent:>6}  {used / wall * 100:>6.1f} %  {used / sent * 1e6:>8.1f} us")


if __name__ == "__main__":
    main()
