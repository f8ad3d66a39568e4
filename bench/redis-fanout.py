#!/usr/bin/env python3
"""Redis pub/sub cost with parlor-sized envelopes: what one PUBLISH costs Redis with N subscribers.

parlor's nodes share one channel (`parlor:bus`, crates/parlor-server/src/bus/redis.rs): every
node publishes each event once and every node's one subscriber receives every event. This
measures, for each number of subscribers (nodes), how much of Redis's CPU a publish takes and
how fast one publishing connection (pipelined, as parlor's publisher is) gets through them.
Redis's CPU comes from its own INFO counters, so the figure holds on a shared machine where
wall-clock rates do not.

    redis-server --port 16391 --save '' --appendonly no --daemonize yes
    python3 bench/redis-fanout.py --port 16391 --subscribers 0,1,4,16,32 --publishes 50000 --bytes 520

Python 3 standard library only; the subscribers are threads that read and discard.
"""

import argparse
import socket
import threading
import time

CHANNEL = b"parlor:bench-fanout"


def command(*args: bytes) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def redis_cpu(port: int) -> float:
    """Seconds of CPU Redis has used (user + system, main thread and all)."""
    s = connect(port)
    s.sendall(command(b"INFO", b"cpu"))
    data = b""
    while b"used_cpu_user:" not in data or not data.endswith(b"\r\n"):
        data += s.recv(65536)
    s.close()
    fields = dict(line.split(":", 1) for line in data.decode().splitlines() if ":" in line)
    return float(fields["used_cpu_sys"]) + float(fields["used_cpu_user"])


class Subscriber(threading.Thread):
    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.sock.sendall(command(b"SUBSCRIBE", CHANNEL))
        ack = b""
        while ack.count(b"\r\n") < 6:  # *3 $9 subscribe $N channel :1
            ack += self.sock.recv(4096)
        self.received = 0
        self.done = threading.Event()

    def run(self):
        buf = bytearray(1 << 20)
        while not self.done.is_set():
            try:
                n = self.sock.recv_into(buf)
            except OSError:
                return
            if n == 0:
                return
            self.received += n


def run(port: int, subscribers: int, publishes: int, size: int, pipeline: int) -> dict:
    subs = [Subscriber(port) for _ in range(subscribers)]
    for s in subs:
        s.start()
    payload = b"x" * size
    one = command(b"PUBLISH", CHANNEL, payload)
    per_delivery = len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL, size, payload))
    pub = connect(port)
    cpu0, t0 = redis_cpu(port), time.perf_counter()
    sent = 0
    while sent < publishes:
        n = min(pipeline, publishes - sent)
        pub.sendall(one * n)
        replies = 0
        while replies < n:  # each reply is one ":<count>\r\n" line
            replies += pub.recv(65536).count(b"\r\n")
        sent += n
    t_pub = time.perf_counter() - t0
    expected = per_delivery * publishes
    deadline = time.time() + 120
    while any(s.received < expected for s in subs) and time.time() < deadline:
        time.sleep(0.01)
    t_all = time.perf_counter() - t0
    cpu = redis_cpu(port) - cpu0
    for s in subs:
        s.done.set()
        s.sock.close()
    pub.close()
    return {
        "subscribers": subscribers,
        "publishes_per_s": publishes / t_pub,
        "deliveries_per_s": publishes * subscribers / t_all if subscribers else 0.0,
        "redis_cpu_us_per_publish": cpu / publishes * 1e6,
        "complete": all(s.received >= expected for s in subs),
        "bytes_per_delivery": per_delivery,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=6379)
    p.add_argument("--subscribers", default="0,1,4,16,32")
    p.add_argument("--publishes", type=int, default=50000)
    p.add_argument("--bytes", type=int, default=520, help="envelope size (header + frame JSON)")
    p.add_argument("--pipeline", type=int, default=256, help="publishes per round trip (parlor's BATCH)")
    a = p.parse_args()
    # Slow test subscribers must not be cut off mid-run (parlor's nodes run with Redis's default).
    s = connect(a.port)
    s.sendall(command(b"CONFIG", b"SET", b"client-output-buffer-limit", b"pubsub 0 0 0"))
    s.recv(100)
    s.close()
    print("subscribers  publishes/s  deliveries/s  redis CPU us/publish  complete")
    for n in [int(x) for x in a.subscribers.split(",")]:
        r = run(a.port, n, a.publishes, a.bytes, a.pipeline)
        print(
            f"{r['subscribers']:>11}  {r['publishes_per_s']:>11,.0f}  {r['deliveries_per_s']:>12,.0f}"
            f"  {r['redis_cpu_us_per_publish']:>20.2f}  {r['complete']}"
        )


if __name__ == "__main__":
    main()
