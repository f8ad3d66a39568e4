#!/usr/bin/env python3
"""What one message costs the Redis of a parlor cluster: envelopes on the bus and their bytes,
and every other Redis command (rate limits, presence, tickets), counted per message.

Needs two running parlor nodes sharing PostgreSQL and a Redis (see docs/capacity.md for the
commands), with `jwt_secret` set so that host tokens create users on first sight. Users 1..2N
form N direct conversations; each even user is on node A, each odd one on node B. Each round,
per DM: the sender types (`typing_indicator`), sends a 100-byte message over its socket and
waits for its `ack`, the recipient (on the other node) receives it, and after the delivery
receipt tick reads it (`message_read`). Meanwhile one raw subscriber records every envelope on
`parlor:bus` (size and kind), and `MONITOR` counts every command the nodes send Redis.

    python3 bench/bus-capture.py --a http://127.0.0.1:18301 --b http://127.0.0.1:18302 \\
        --redis-port 16391 --secret "$PARLOR_JWT_SECRET" --dms 5 --rounds 20

Python 3 standard library only (a minimal WebSocket client below).
"""

import argparse
import base64
import collections
import hashlib
import hmac
import json
import os
import socket
import struct
import threading
import time
import urllib.request

CHANNEL = b"parlor:bus"
KINDS = {0: "event", 1: "ephemeral", 2: "personal", 3: "forget_members", 8: "devices", 9: "call"}


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(secret: str, user: int) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": str(user), "exp": int(time.time()) + 3600}).encode())
    sig = b64url(hmac.new(secret.encode(), head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


def http(base: str, method: str, path: str, tok: str, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + tok)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


class Socket:
    """A WebSocket client: text frames out (masked), text frames in, a reader thread."""

    def __init__(self, base: str, tok: str):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {tok}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head.decode(errors="replace"))
        self.frames = collections.deque()
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def _read(self):
        self.sock.settimeout(None)
        try:
            while True:
                b0, b1 = self._exact(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._exact(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._exact(8))[0]
                payload = self._exact(n)
                if b0 & 0x0F == 0x1:
                    with self.cond:
                        self.frames.append(json.loads(payload))
                        self.cond.notify_all()
                elif b0 & 0x0F == 0x9:
                    self._send(0xA, payload)
        except (EOFError, OSError):
            return

    def _send(self, opcode: int, payload: bytes):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode]) + (
            bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
        )
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, frame: dict):
        self._send(0x1, json.dumps(frame).encode())

    def wait(self, pred, timeout=10.0) -> dict:
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for f in list(self.frames):
                    if pred(f):
                        self.frames.remove(f)
                        return f
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("no matching frame")
                self.cond.wait(left)


def redis_conn(port: int, *args: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    return s


class BusRecorder(threading.Thread):
    """Subscribes to parlor's channel and records each envelope's size and kind."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = redis_conn(port, b"SUBSCRIBE", CHANNEL)
        self.envelopes = []  # (bytes, kind, frame type)
        self.stop = False

    def run(self):
        buf = b""
        while not self.stop:
            try:
                self.sock.settimeout(0.2)
                buf += self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            while True:  # *3 $7 message $10 parlor:bus $N payload
                if not buf.startswith(b"*3\r\n"):
                    break
                parts = buf.split(b"\r\n", 6)
                if len(parts) < 7:
                    break
                if parts[2] != b"message":  # the subscription's own answer: ... $10 parlor:bus :1
                    buf = parts[6]
                    continue
                n = int(parts[5][1:])
                rest = parts[6]
                if len(rest) < n + 2:
                    break
                payload, buf = rest[:n], rest[n + 2 :]
                self.envelopes.append((n, KINDS.get(payload[1], str(payload[1])), frame_type(payload)))


def frame_type(payload: bytes) -> str:
    start = payload.find(b'{"type":"')
    if start < 0:
        return "-"
    return payload[start + 9 : payload.index(b'"', start + 9)].decode()


class Monitor(threading.Thread):
    """Counts the commands the nodes send Redis (MONITOR), by command name."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = redis_conn(port, b"MONITOR")
        self.counts = collections.Counter()
        self.stop = False

    def run(self):
        buf = b""
        while not self.stop:
            try:
                self.sock.settimeout(0.2)
                buf += self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            *lines, buf = buf.split(b"\r\n")
            for line in lines:
                # +1700000000.123456 [0 127.0.0.1:5000] "EVALSHA" "sha" "1" "key" ...
                if b'] "' in line:
                    words = line.split(b'] "', 1)[1].split(b'"')
                    name = words[0].decode().upper()
                    if name in ("EVALSHA", "EVAL") and len(words) > 6:
                        key = words[6].decode()
                        name += " rate limit " + key.split(":")[2] if key.startswith("parlor:rl:") else " " + key
                    self.counts[name] += 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--dms", type=int, default=5)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--hold", type=float, default=0, help="seconds to keep the sockets open, idle, at the end")
    a = p.parse_args()
    pairs = []
    for i in range(a.dms):
        ua, ub = 2 * i + 1, 2 * i + 2
        ta, tb = token(a.secret, ua), token(a.secret, ub)
        other = http(a.b, "GET", "/api/users/me", tb)["id"]  # created on first sight
        conv = http(a.a, "POST", "/api/chat/conversations", ta, {"user_id": other})["id"]
        pairs.append((conv, Socket(a.a, ta), Socket(a.b, tb)))
    time.sleep(2)  # past the connects' presence traffic
    bus, mon = BusRecorder(a.redis_port), Monitor(a.redis_port)
    bus.start()
    mon.start()
    time.sleep(0.5)
    content = "m" * 100
    messages = 0
    t0 = time.time()
    for r in range(a.rounds):
        for conv, sa, sb in pairs:
            sa.send({"type": "typing_indicator", "conversation_id": conv, "is_typing": True})
            cid = f"cap-{os.getpid()}-{r}-{conv}"
            sa.send({"type": "chat_message", "conversation_id": conv, "content": content, "client_id": cid})
            sa.wait(lambda f: f.get("type") == "ack" and f.get("client_id") == cid)
            sb.wait(lambda f: f.get("type") == "chat_message" and f.get("client_id") == cid)
            messages += 1
        time.sleep(0.3)  # one delivery-receipt tick (250 ms)
        for conv, sa, sb in pairs:
            sb.send({"type": "message_read", "conversation_id": conv})
        time.sleep(0.3)
    elapsed = time.time() - t0
    time.sleep(1)
    bus.stop = mon.stop = True
    print(f"{messages} messages in {a.dms} DMs across two nodes, {elapsed:.1f} s\n")
    print("envelopes on parlor:bus, per message sent")
    by = collections.defaultdict(list)
    for n, kind, ftype in bus.envelopes:
        by[(kind, ftype)].append(n)
    total = 0
    for (kind, ftype), sizes in sorted(by.items(), key=lambda kv: -len(kv[1])):
        total += sum(sizes)
        print(f"  {kind:<10} {ftype:<22} {len(sizes) / messages:5.2f} per message, {sum(sizes) / len(sizes):6.0f} bytes each")
    print(f"  all: {len(bus.envelopes) / messages:.2f} envelopes, {total / messages:.0f} bytes per message\n")
    print("Redis commands from the nodes, per message sent (MONITOR)")
    for name, n in mon.counts.most_common():
        print(f"  {name:<28} {n / messages:6.2f}")
    print(f"  all: {sum(mon.counts.values()) / messages:.2f} per message, over {elapsed:.1f} s")
    if a.hold:
        print(f"\nholding {2 * a.dms} idle sockets for {a.hold:.0f} s", flush=True)
        time.sleep(a.hold)


if __name__ == "__main__":
    main()
