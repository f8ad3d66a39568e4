#!/usr/bin/env python3
"""parlor's capacity on paper: from a workload model and the unit costs measured on the 2-core
bench machine (docs/benchmarks.md, docs/capacity.md), the nodes, PostgreSQL and Redis that 10 k,
100 k and 1 M concurrent users need, and where the one PostgreSQL primary and the one Redis
channel stop. docs/capacity.md quotes its output; change a number and run it again:

    python3 bench/capacity.py                          # the doc's table
    python3 bench/capacity.py --users 250000 --msgs-per-min 3 --node-cores 16
    python3 bench/capacity.py --presence-deltas       # if the presence snapshot were replaced

Each unit cost below names where it was measured ([B] docs/benchmarks.md, [C] docs/capacity.md's
own measurements) or says it is an assumption ([A]). Python 3 standard library only.
"""

import argparse
import math

# ---- measured unit costs ---------------------------------------------------------------------
UNIT = {
    # [B] Idle connections: 3,777 B per authenticated idle connection in the server (RSS, at
    # 19,000; round 2 of issue 22).
    "conn_bytes": 3777,
    # [A] Kernel memory per idle TCP socket (skbuffs, socket structs) beyond the process's RSS.
    "kernel_conn_bytes": 4096,
    # [B] Idle: 19,000 connections' heartbeats cost 2.1% of a core -> core-seconds per conn per s.
    "heartbeat_core_per_conn": 0.021 / 19000,
    # [B] Message throughput: a DM at ~6,000 msg/s and ~93% of a core is ~0.15 ms with its two
    # deliveries; rooms: 50,000 deliveries/s at 91% of a core with 500 msg/s -> ~17 us a
    # delivery. A message without its deliveries: 0.15 - 2 x 0.017 ms.
    "msg_core_s": 0.150e-3 - 2 * 0.017e-3,
    "delivery_core_s": 0.017e-3,
    # [B] PostgreSQL set-wise: the node's CPU per message on PostgreSQL is no higher than on
    # SQLite at 1,000-2,000 msg/s (22-25% of a core); the SQLite figure above is used for both.
    # [B] Storm: 19,000 reconnects in 1.86 s with the generator on the same 2 cores; ~10,000/s
    # per node is taken as a node's rate on 2 cores, i.e. 0.2 ms of CPU per connect.
    "connect_core_s": 2 / 10200,
    # [C] bus-inject.py: a node's CPU for another node's event none of its sockets needs.
    # 3.0, 2.1 and 1.8 us at 5,000, 20,000 and 40,000 envelopes/s (release build).
    "foreign_event_core_s": 3.0e-6,
    # [A] Parsing the presence snapshot into a set: per user id, per sync, on every node.
    "snapshot_node_core_s_per_user": 0.15e-6,
    # [C] bus-capture.py: envelopes on the bus per DM message sent (typing, message, delivered,
    # read), and their bytes: typing 123, chat_message 589, delivered 121, read 170.
    "bytes_message_envelope": 589,
    "bytes_typing_envelope": 123,
    "bytes_delivered_envelope": 121,
    "bytes_read_envelope": 170,
    # [C] redis-fanout.py: Redis CPU per PUBLISH of a ~590-byte envelope: 0.7-1.1 us with no
    # subscriber, then 0.4-0.7 us more per subscriber (two runs, 1 to 32 subscribers).
    "redis_publish_s": 1.0e-6,
    "redis_publish_per_sub_s": 0.5e-6,
    # [C] redis-presence.py: the GCRA rate-limit script, Redis CPU per call, 6-34 us on this
    # loaded machine; 17 us per call (time inside the command) in a real two-node load.
    "redis_gcra_s": 15e-6,
    # [C] redis-presence.py: presence snapshot, Redis CPU per online user per call (138-163 ms
    # for 100,000 users, 2.1-2.9 s for 1,000,000, on 4 and 16 nodes).
    "redis_snapshot_s_per_user": 1.6e-6,
    # [C] redis-presence.py: a connect's hold script (plus SADD, ticket GETDEL, GCRA): ~40 us.
    "redis_connect_s": 40e-6,
    # [C] PostgreSQL relation sizes at 30,000 messages: a message (632 B with its six indexes,
    # the search index 185 B of it) with its message_created event, and each logged receipt
    # event (a DM's delivered and read events), 359 B with its key; 1,706 B for a DM message.
    "pg_bytes_per_message": 632 + 359,
    "pg_bytes_per_event": 359,
    # [C] pgbench on this machine's disk: ~5 ms per fsync (pg_test_fsync: ~200 serial fsyncs/s,
    # --pg-commit-ms); group commit reached 3,300-3,600 one-row commits/s with 16-48 clients;
    # 50-row commits: 520 (4 clients) to 870/s (16 clients) = 26,000-43,600 rows/s, 2 shared cores.
    "pg_rows_per_s_here": 43600,
    # [B] The PostgreSQL batch writer: up to 4 lanes per node, 6 round trips per batch.
    "pg_reads_s_here": 10000,  # [C] pgbench -S, 8-32 clients: 9,100-10,700 key reads/s
    # [B] Storm: a connect reads the token's user and the presence audience (two queries).
    "pg_reads_per_connect": 2,
    "pg_lanes_per_node": 4,
    "pg_pool_per_node": 16,  # database.max_connections, its default
    # The bus's repair poll reads the newest seq of up to 500 conversations per statement
    # (bus/remote.rs, REPAIR_CHUNK). [C] pgbench, 8 clients: 900-1,040 such statements/s against
    # 10,500-12,100 one-key reads/s, so a statement costs ~1 key read plus one per 50 ids.
    "repair_chunk": 500,
    "repair_ids_per_key_read": 50,
}

# ---- outside knowledge, labelled as such in the doc ------------------------------------------
OUTSIDE = {
    # A dedicated PostgreSQL primary on NVMe (16-32 cores): commits/s with group commit, and rows
    # of ~1-2 KB written per second, sustained, before WAL volume, vacuum and replication bind.
    "pg_primary_commits_s": 20000,
    "pg_primary_rows_s": 150000,
    # ... and simple key reads per second on that primary (replicas add more).
    "pg_primary_reads_s": 200000,
    # One Redis process (one main thread): ~1 s of CPU per second, of which keep half for bursts.
    "redis_core_budget": 0.5,
    # A node's NIC: 10 Gbit/s, of which keep a quarter for the bus.
    "node_bus_bandwidth_Bps": 10e9 / 8 / 4,
}


def model(a):
    u = a.users
    sockets = u * a.sockets_per_user
    msgs = u * a.msgs_per_min / 60  # messages sent per second, at peak
    dm, room = msgs * a.dm_share, msgs * (1 - a.dm_share)
    # Deliveries: every member's sockets, the sender's included; members offline get none.
    per_dm = a.sockets_per_user * (1 + a.partner_online)
    per_room = a.sockets_per_user * (1 + (a.room_size - 1) * a.member_online)
    deliveries = dm * per_dm + room * per_room
    # Reads: a member looking at the conversation marks it read (chat.js: once per new message).
    reads = dm * a.partner_online * a.viewing + room * (a.room_size - 1) * a.member_online * a.viewing
    # Bus envelopes: message, typing (composer.js: start and stop), delivered and read events,
    # logged and pushed only in conversations of at most 32 members
    # (limits.receipt_events_max_members); one delivered per recipient and 250 ms tick.
    logged_room_receipts = a.room_size <= 32
    delivered_events = dm * a.partner_online + (room * (a.room_size - 1) * a.member_online if logged_room_receipts else 0)
    dm_reads = dm * a.partner_online * a.viewing
    read_events = dm_reads + (reads - dm_reads if logged_room_receipts else 0)
    typing = msgs * a.typing_per_msg
    envelopes = msgs + typing + delivered_events + read_events
    bus_bytes = (
        msgs * UNIT["bytes_message_envelope"]
        + typing * UNIT["bytes_typing_envelope"]
        + delivered_events * UNIT["bytes_delivered_envelope"]
        + read_events * UNIT["bytes_read_envelope"]
    )
    # Frames a client sends that take a rate-limit token (sends, typing, reads): a GCRA each.
    gcra = msgs + typing + reads

    # ---- nodes --------------------------------------------------------------------------------
    local_core = (
        msgs * UNIT["msg_core_s"]
        + deliveries * UNIT["delivery_core_s"]
        + sockets * UNIT["heartbeat_core_per_conn"]
        + reads * UNIT["msg_core_s"] / 2  # [A] a read frame: half a message's work
    )
    budget = a.node_cores * a.node_util
    # Every node receives every envelope; those for conversations with nobody here cost
    # foreign_event_core_s. Its presence copy is rebuilt every sync from the whole snapshot.
    per_node_fixed = envelopes * UNIT["foreign_event_core_s"]
    if not a.presence_deltas:
        per_node_fixed += 2 * u * UNIT["snapshot_node_core_s_per_user"] / a.sync_s
    # [B] 28.9 MiB before the first connection; 64 MiB allowed for caches.
    mem_per_node = lambda n: 64 * 2**20 + sockets / n * (UNIT["conn_bytes"] + UNIT["kernel_conn_bytes"])
    n_cpu = local_core / max(budget - per_node_fixed, 1e-9) if budget > per_node_fixed else math.inf
    n_mem = sockets * (UNIT["conn_bytes"] + UNIT["kernel_conn_bytes"]) / (a.node_mem_gib * 2**30 * 0.5)
    n_conn = sockets / a.max_sockets_per_node
    nodes = max(2, math.ceil(max(n_cpu, n_mem, n_conn))) if math.isfinite(n_cpu) else math.inf

    # ---- Redis ----------------------------------------------------------------------------------
    # When no number of nodes suffices (their bus share alone fills them), count those that
    # sockets and memory would need, to show what Redis and PostgreSQL would face.
    n = nodes if math.isfinite(nodes) else max(2, math.ceil(max(n_mem, n_conn)))
    redis_pub = envelopes * (UNIT["redis_publish_s"] + UNIT["redis_publish_per_sub_s"] * n)
    redis_gcra = gcra * UNIT["redis_gcra_s"] if a.rate_limits else 0
    redis_presence = 0 if a.presence_deltas else n * u * UNIT["redis_snapshot_s_per_user"] / a.sync_s
    redis_cpu = redis_pub + redis_gcra + redis_presence
    redis_out = bus_bytes * n + (0 if a.presence_deltas else n * 2 * u * 12 / a.sync_s)

    # ---- PostgreSQL -----------------------------------------------------------------------------
    # Rows written: a message row and its event, each delivered/read event, each read position.
    rows = msgs * 2 + delivered_events + read_events + reads
    # Commits: every node's lanes commit as often as the disk lets them when busy; when quiet,
    # a batch per message. Each node also commits its receipts every 250 ms.
    lane_commits = n * UNIT["pg_lanes_per_node"] / (a.pg_commit_ms / 1000)
    commits = min(msgs + reads, lane_commits) + n * 4
    per_commit = (msgs + reads) / max(commits - n * 4, 1)
    stored = msgs * UNIT["pg_bytes_per_message"] + (delivered_events + read_events) * UNIT["pg_bytes_per_event"]
    storage_day = stored * a.peak_to_average * 86400
    pool = n * a.pg_pool_per_node
    # Bus repair (bus/remote.rs): every 2 s each node asks the log for the newest seq of every
    # conversation with an event in the last 5 minutes and a member connected there, 500 per
    # statement (before: one query each, --repair-per-conversation; [C] measured then: 10
    # tracked conversations on two nodes, 5.4 transactions/s idle). Its cost is counted in
    # one-key reads: a statement, plus one per 50 ids it asks about.
    active = msgs * 300 / a.msgs_per_active_conversation
    listener_nodes = a.dm_share * min(n, 1 + a.partner_online) + (1 - a.dm_share) * min(n, 1 + (a.room_size - 1) * a.member_online)
    repair_ids = 0 if n < 2 else active * listener_nodes / (300 if a.repair_once else 2)
    if a.repair_per_conversation:
        repair_statements, repair_reads = repair_ids, repair_ids
    else:
        per_node_per_tick = repair_ids * 2 / n if n else 0
        repair_statements = n * math.ceil(per_node_per_tick / UNIT["repair_chunk"]) / 2 if n > 1 else 0
        repair_reads = repair_statements + repair_ids / UNIT["repair_ids_per_key_read"]
    # ---- a reconnect storm: every socket of one node (rolling deploy) or all (full restart) --
    # The nodes could take them back at ~5,000 connects/s per core ([B] storm); each connect also
    # costs Redis ~40 us (ticket, limit, presence) and PostgreSQL two reads.
    storm_nodes_s = sockets / (n * a.node_cores * 5100) if n else math.inf
    storm_redis_s = sockets * UNIT["redis_connect_s"] / 1.0 if n > 1 else 0
    storm_pg_s = sockets * UNIT["pg_reads_per_connect"] / OUTSIDE["pg_primary_reads_s"]
    return {
        "users": u, "sockets": sockets, "msgs": msgs, "deliveries": deliveries, "reads": reads,
        "envelopes": envelopes, "bus_bytes": bus_bytes, "gcra": gcra,
        "local_core": local_core, "per_node_fixed": per_node_fixed, "budget": budget,
        "nodes": nodes, "mem_per_node": mem_per_node(nodes) if math.isfinite(nodes) else math.inf,
        "n_cpu": n_cpu, "n_mem": n_mem, "n_conn": n_conn,
        "redis_cpu": redis_cpu, "redis_pub": redis_pub, "redis_gcra": redis_gcra,
        "redis_presence": redis_presence, "redis_out": redis_out,
        "rows": rows, "commits": commits, "per_commit": per_commit, "storage_day": storage_day,
        "pool": pool, "storm_nodes_s": storm_nodes_s, "storm_redis_s": storm_redis_s,
        "storm_pg_s": storm_pg_s, "repair_reads": repair_reads, "active": active,
        "repair_ids": repair_ids, "repair_statements": repair_statements,
    }


def fmt(x, unit=""):
    if x == math.inf:
        return "never"
    for div, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}{unit}"
    return f"{x:.0f}{' ' + unit if unit else ''}" if x >= 10 else f"{x:.2g}{' ' + unit if unit else ''}"


def table(args, scales):
    rows = [model(argparse.Namespace(**{**vars(args), "users": s})) for s in scales]
    lines = [
        ("concurrent users", lambda r: fmt(r["users"])),
        ("sockets", lambda r: fmt(r["sockets"])),
        ("messages/s at peak", lambda r: fmt(r["msgs"])),
        ("deliveries/s", lambda r: fmt(r["deliveries"])),
        ("read receipts/s", lambda r: fmt(r["reads"])),
        ("NODES needed", lambda r: fmt(r["nodes"]) if math.isfinite(r["nodes"]) else "none suffice"),
        ("  by CPU / memory / sockets", lambda r: f"{r['n_cpu']:.1f} / {r['n_mem']:.1f} / {r['n_conn']:.1f}"),
        ("  node cores on the cluster's bus", lambda r: f"{r['per_node_fixed']:.2f} of {r['budget']:.1f}"),
        ("  memory per node", lambda r: fmt(r["mem_per_node"], "B")),
        ("REDIS envelopes/s in", lambda r: fmt(r["envelopes"])),
        ("  bus bytes/s in", lambda r: fmt(r["bus_bytes"], "B")),
        ("  bytes/s out (all nodes)", lambda r: fmt(r["redis_out"], "B")),
        ("  rate-limit checks/s", lambda r: fmt(r["gcra"])),
        ("  main-thread CPU (cores)", lambda r: f"{r['redis_cpu']:.2f}"),
        ("    publish / limits / presence", lambda r: f"{r['redis_pub']:.2f} / {r['redis_gcra']:.2f} / {r['redis_presence']:.2f}"),
        ("POSTGRESQL rows written/s", lambda r: fmt(r["rows"])),
        ("  commits/s", lambda r: fmt(r["commits"])),
        ("  writes per commit", lambda r: f"{r['per_commit']:.1f}"),
        ("  storage per day", lambda r: fmt(r["storage_day"], "B")),
        (f"  connections ({args.pg_pool_per_node} per node)", lambda r: fmt(r["pool"])),
        ("  repair poll: conversations/s", lambda r: fmt(r["repair_ids"])),
        ("    its statements/s, as key reads/s", lambda r: f"{fmt(r['repair_statements'])}, {fmt(r['repair_reads'])}"),
        ("STORM: every socket back, s", lambda r: f"{max(r['storm_nodes_s'], r['storm_redis_s'], r['storm_pg_s']):.1f}"),
        ("  bound by nodes / Redis / PG", lambda r: f"{r['storm_nodes_s']:.1f} / {r['storm_redis_s']:.1f} / {r['storm_pg_s']:.1f}"),
    ]
    width = max(len(label) for label, _ in lines) + 2
    out = []
    for label, cell in lines:
        out.append(label.ljust(width) + "".join(cell(r).rjust(20) for r in rows))
    return "\n".join(out), rows


LIMITS = [
    ("Redis main thread over half a core", lambda r: r["redis_cpu"] > OUTSIDE["redis_core_budget"]),
    ("  of which the presence snapshot alone", lambda r: r["redis_presence"] > OUTSIDE["redis_core_budget"]),
    ("  of which PUBLISH alone (every node subscribed)", lambda r: r["redis_pub"] > OUTSIDE["redis_core_budget"]),
    ("a node spends half its budget on others' events", lambda r: r["per_node_fixed"] > r["budget"] / 2),
    ("PostgreSQL reads/s (repair poll) over this machine's (10,000)", lambda r: r["repair_reads"] > UNIT["pg_reads_s_here"]),
    ("PostgreSQL reads/s (repair poll) over a big primary's (200,000, outside)", lambda r: r["repair_reads"] > OUTSIDE["pg_primary_reads_s"]),
    ("PostgreSQL rows/s over this machine's (43,600)", lambda r: r["rows"] > UNIT["pg_rows_per_s_here"]),
    ("PostgreSQL rows/s over a big primary's (150,000, outside)", lambda r: r["rows"] > OUTSIDE["pg_primary_rows_s"]),
    ("PostgreSQL commits/s over a big primary's (20,000, outside)", lambda r: r["commits"] > OUTSIDE["pg_primary_commits_s"]),
]


def stops_at(args, hit) -> float:
    """The fewest concurrent users at which `hit` holds (bisection, 1,000 to 20 M)."""
    at = lambda u: model(argparse.Namespace(**{**vars(args), "users": u}))
    lo, hi = 1000, 20_000_000
    if hit(at(lo)):
        return lo
    if not hit(at(hi)):
        return math.inf
    while hi / lo > 1.02:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if hit(at(mid)) else (mid, hi)
    return hi


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", default="10000,100000,1000000", help="concurrent users, comma-separated")
    p.add_argument("--sockets-per-user", type=float, default=1.5, help="[A] phone and a tab for half")
    p.add_argument("--msgs-per-min", type=float, default=1.0, help="[A] messages a user sends per minute at peak")
    p.add_argument("--dm-share", type=float, default=0.7, help="[A] share of messages in DMs")
    p.add_argument("--room-size", type=int, default=20, help="[A] members of a room")
    p.add_argument("--partner-online", type=float, default=0.5, help="[A] a DM partner is connected")
    p.add_argument("--member-online", type=float, default=0.3, help="[A] a room member is connected")
    p.add_argument("--viewing", type=float, default=0.5, help="[A] a connected member has the conversation open")
    p.add_argument("--typing-per-msg", type=float, default=2.0, help="[C] chat.js: typing start and stop")
    p.add_argument("--peak-to-average", type=float, default=0.3, help="[A] a day's mean rate / the peak")
    p.add_argument("--node-cores", type=int, default=8, help="[A] cores per node")
    p.add_argument("--node-mem-gib", type=float, default=16, help="[A] memory per node")
    p.add_argument("--node-util", type=float, default=0.5, help="[A] CPU share used at peak (headroom for storms)")
    p.add_argument("--max-sockets-per-node", type=int, default=100000, help="[A] a blast radius per node")
    p.add_argument("--pg-commit-ms", type=float, default=5.0, help="[C] a commit's fsync here (pg_test_fsync)")
    p.add_argument("--sync-s", type=float, default=1.0, help="cluster.sync_ms / 1000 (default 1 s)")
    p.add_argument("--rate-limits", type=int, default=1, help="1: the Redis GCRA per sent frame (default config)")
    p.add_argument("--presence-deltas", action="store_true", help="presence changes on the bus, no snapshot")
    p.add_argument("--msgs-per-active-conversation", type=float, default=5, help="[A] messages in 5 min")
    p.add_argument("--repair-once", action="store_true", help="the repair asks once per quiet conversation")
    p.add_argument("--repair-per-conversation", action="store_true", help="the repair as before: a query each")
    p.add_argument("--pg-pool-per-node", type=int, default=UNIT["pg_pool_per_node"], help="database.max_connections")
    a = p.parse_args()
    scales = [int(float(x)) for x in a.users.split(",")]
    text, _ = table(a, scales)
    print(text)
    print("\nwhere each shared piece stops (concurrent users, this model)")
    for label, hit in LIMITS:
        print(f"  {label:<72} {fmt(stops_at(a, hit)):>8}")


if __name__ == "__main__":
    main()
