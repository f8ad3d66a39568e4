#!/usr/bin/env python3
"""What parlor's cluster scripts cost Redis as the cluster grows: the presence snapshot every node
takes every `cluster.sync_ms`, a user's `hold` on connect, and the rate limiter's GCRA check
that every sent frame takes (crates/parlor-server/src/cluster/presence.rs and limiter.rs; the
Lua below is copied from there).

For each (online users, nodes) it fills the nodes' `held` and `conn` sets the way running nodes
would (users spread evenly), runs each script a number of times and reports Redis's own CPU per
call (INFO cpu of the main thread, so the figure holds on a shared machine better than wall
time would) and the snapshot's reply size.
It uses keys under `{parlor-bench}`, deleted afterwards.

    redis-server --port 16391 --save '' --appendonly no --daemonize yes
    python3 bench/redis-presence.py --port 16391 --users 10000,100000,1000000 --nodes 4,16

Python 3 standard library only.
"""

import argparse
import socket

PREFIX = "{parlor-bench}"

HELD_ELSEWHERE = """
local function held_elsewhere(nodes_key, me, user)
  for _, node in ipairs(redis.call('SMEMBERS', nodes_key)) do
    if node ~= me and redis.call('SISMEMBER', '{parlor-bench}:node:' .. node .. ':held', user) == 1 then
      return true
    end
  end
  return false
end
"""

HOLD = HELD_ELSEWHERE + """
if redis.call('SADD', '{parlor-bench}:node:' .. ARGV[1] .. ':held', ARGV[2]) == 0 then return 0 end
if held_elsewhere(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
return 1
"""

SNAPSHOT = """
local conn, held = {}, {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  table.insert(conn, '{parlor-bench}:node:' .. node .. ':conn')
  table.insert(held, '{parlor-bench}:node:' .. node .. ':held')
end
if #conn == 0 then return {{}, {}} end
return {redis.call('SUNION', unpack(conn)), redis.call('SUNION', unpack(held))}
"""

GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - interval * burst
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
"""


def command(*args) -> bytes:
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Redis:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = bytearray()
        self.pos = 0

    def _more(self):
        if self.pos > 1 << 20:  # drop what was read, now and then (never per line: quadratic)
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += self.sock.recv(1 << 20)

    def _line(self) -> bytes:
        while (end := self.buf.find(b"\r\n", self.pos)) < 0:
            self._more()
        line = bytes(self.buf[self.pos : end])
        self.pos = end + 2
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < self.pos + n + 2:
            self._more()
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n + 2
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    def call(self, *args):
        self.sock.sendall(command(*args))
        return self.reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(command(*c) for c in commands))
        return [self.reply() for _ in commands]


def cpu_seconds(r: Redis) -> float:
    """Redis's main-thread CPU so far (user + system): unlike wall time, not inflated by
    waiting for a core on a shared machine."""
    info = r.call("INFO", "cpu").decode()
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return float(fields["used_cpu_user_main_thread"]) + float(fields["used_cpu_sys_main_thread"])


def cpu_per_call(r: Redis, commands) -> float:
    """Redis's main-thread CPU microseconds per command over these commands (pipelined)."""
    before = cpu_seconds(r)
    for i in range(0, len(commands), 500):
        r.pipeline(commands[i : i + 500])
    return (cpu_seconds(r) - before) / len(commands) * 1e6


def fill(r: Redis, users: int, nodes: int):
    r.call("DEL", f"{PREFIX}:nodes")
    r.call("SADD", f"{PREFIX}:nodes", *[f"n{i}" for i in range(nodes)])
    for i in range(nodes):
        mine = list(range(1 + i, users + 1, nodes))
        for kind in ("held", "conn"):
            key = f"{PREFIX}:node:n{i}:{kind}"
            r.call("DEL", key)
            for j in range(0, len(mine), 10000):
                r.call("SADD", key, *mine[j : j + 10000])


def clean(r: Redis, nodes: int):
    keys = [f"{PREFIX}:nodes"] + [f"{PREFIX}:node:n{i}:{k}" for i in range(nodes) for k in ("held", "conn")]
    r.call("DEL", *keys)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=6379)
    p.add_argument("--users", default="10000,100000,1000000")
    p.add_argument("--nodes", default="4,16")
    a = p.parse_args()
    r = Redis(a.port)
    snapshot, hold, gcra = (r.call("SCRIPT", "LOAD", s) for s in (SNAPSHOT, HOLD, GCRA))
    print("online users  nodes  snapshot: Redis CPU ms, reply  hold: CPU us  gcra: CPU us")
    for users in [int(x) for x in a.users.split(",")]:
        for nodes in [int(x) for x in a.nodes.split(",")]:
            fill(r, users, nodes)
            calls = 3 if users >= 100000 else 10
            before = cpu_seconds(r)
            for _ in range(calls):
                reply = r.call("EVALSHA", snapshot, 1, f"{PREFIX}:nodes")
            snap_ms = (cpu_seconds(r) - before) / calls * 1000
            size = sum(len(x) + len(b"$%d\r\n\r\n" % len(x)) for part in reply for x in part)
            # 1,000 users connecting who are online nowhere yet.
            holds = [("EVALSHA", hold, 1, f"{PREFIX}:nodes", "n0", users + 1 + k) for k in range(1000)]
            hold_us = cpu_per_call(r, holds)
            gcras = [("EVALSHA", gcra, 1, f"{PREFIX}:rl:sends:u:{k % 5000}", 100000, 500) for k in range(5000)]
            gcra_us = cpu_per_call(r, gcras)
            print(f"{users:>12,}  {nodes:>5}  {snap_ms:>14.1f} ms, {size / 1e6:>5.1f} MB  {hold_us:>11.1f}  {gcra_us:>11.1f}")
            clean(r, nodes)
    r.call("DEL", *[f"{PREFIX}:rl:sends:u:{k}" for k in range(5000)])


if __name__ == "__main__":
    main()
