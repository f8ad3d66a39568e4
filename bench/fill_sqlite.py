#!/usr/bin/env python3
"""Bulk-fills a parlor SQLite database with a benchmark fixture, writing the rows the server's own
write path would have written (Python 3.11 stdlib only).

Usage:
    # 1. let the server create parlor.db and run its migrations, then stop it with SIGTERM:
    PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789 target/release/parlor serve --bind 127.0.0.1:18080 --data-dir DIR &
    sleep 3; kill -TERM $!; wait
    # 2. fill it (the server must not be running; the data dir must be fresh):
    python3 bench/fill_sqlite.py DIR [--messages 5000000] [--conversations 1000] [--check]
    python3 bench/fill_sqlite.py DIR --check-only      # consistency checks only

Tokens: the load generator's host-app token for index i ({"sub": "bench-i", "name": "Bench i",
"exp": ...}, HS256 with the server's PARLOR_JWT_SECRET) maps to users.id i + 1.

What is written, and which server code it stands in for (crates/parlor-store-sqlite/src):

* users: host-app users as users::upsert_external creates them on first sight: external_id
  `bench-{i}`, display_name `Bench {i}` (the name claim the load generator signs, so the first
  request does not rename anyone), no username, avatar or password.
* conversations + members: direct conversations as conversations::get_or_create_direct makes
  them (kind 'direct', direct_key "low:high", two member rows, role 'member'), with the counters
  messages::insert_message keeps: last_message_seq, last_event_seq, last_message_id,
  last_activity_at (= created_at of the last message).
* messages: one row per message as insert_message writes it (seq and event_seq per
  conversation without gaps, kind 'text', system NULL, forwarded 0, a client_id like the web
  client's `w-<32 hex>`, --reply-rate of them replying to the previous message of the conversation).
* events: one 'message_created' row per message (seq = the message's event_seq, message_id,
  actor_id = sender, data NULL, created_at = the message's); a 'reaction_changed' row per reaction
  (reactions::toggle); with --receipt-rate > 0 also 'messages_delivered' + 'messages_read' rows
  (read_state::mark_delivered / mark_read, logged in DMs).
* read state: each member's last_read_seq / delivered_seq is the seq of the last message it sent
  (the UPDATE at the end of insert_message), or of the last message it acknowledged with receipts.
* reactions: --reaction-rate of the messages get one reaction from the recipient.
* messages_fts: filled by the schema's own trigger (messages_fts_pending) and drained once per
  transaction with the statement of search::index_pending, so the index has the schema's
  tokenizer and exactly the stored content; messages_fts_pending is empty afterwards.
* notifications: for every member with unread messages, the one folded unread 'message'
  notification notifications::add leaves (count = unread messages, message_id = the newest,
  created_at = the first unread one's time), as if the recipient was offline since they last
  wrote or read. Read (settled) notifications of the past are not invented. --no-notifications
  skips them.
* webhook_outbox: only the schema's trigger writes it, and only when webhooks are registered
  (none in a fresh data dir) -- as for the server.

Not written (no server path writes them for plain text DMs): message_versions, attachments,
connections (dm_policy "open"), blocks, reports, refresh_tokens, webhooks. users.last_seen_at stays
NULL (nobody has connected).

Layout (defaults):
* history: --conversations DMs; conversation k (id k+1) is between bench-(2k+1) and bench-(2k+2).
  Conversation id 1 (bench-1 / bench-2) is the large one (--large-messages); the other history
  DMs share the rest of --messages evenly.
* heavy user: bench-0 (users.id 1) is in --heavy-conversations DMs; conversation j
  (id C+1+j) is with bench-(j+1). When j % --heavy-unread-every == 0 it ends with
  1 + (j // N) % 9 unread messages from the other side; the others have none for bench-0.
  GET /api/chat/conversations returns only the 500 most recent of them (the server's fixed
  limit); GET /api/chat/unread-count covers all.
* messages of all conversations are interleaved in time (a random order over --days days up to
  now, ids increasing with time), as a server with many concurrent conversations stores them.

During the fill: journal_mode OFF (or WAL with --journal wal), synchronous OFF, an exclusive
lock, a large page cache, transactions of --batch messages. The file is put back into WAL mode
at the end. No ANALYZE by default: the server never runs it, so a production database has no
sqlite_stat1 (the plans of the history and list queries are the same either way); --analyze
adds it.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time

# Migrations in crates/parlor-store-sqlite this filler knows the schema after: none after 0006
# changed what it writes (later ones add nullable or defaulted columns and tables these rows do
# not need); events are written without hash-chain links (0014), as events logged before that
# migration are: their chain starts after them, and reads never look at the links. 0019 adds the
# search words, filled at the end when present.
MIGRATIONS = (6, 13, 14)

# search::index_pending, verbatim.
INDEX_PENDING = (
    "INSERT INTO messages_fts (rowid, content) SELECT m.id, m.content FROM messages_fts_pending p "
    "JOIN messages m ON m.id = p.message_id"
)
CLEAR_PENDING = "DELETE FROM messages_fts_pending"

# messages::insert_message's INSERT (kind/system/forwarded as the values it binds for text).
INSERT_MESSAGE = (
    "INSERT INTO messages (id, conversation_id, seq, event_seq, sender_id, content, reply_to, client_id, "
    "created_at, kind, system, forwarded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'text', NULL, 0)"
)
# The message_created event insert_message writes, for the messages just stored.
INSERT_CREATED_EVENTS = (
    "INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, created_at) "
    "SELECT conversation_id, event_seq, 'message_created', id, sender_id, created_at FROM messages "
    "WHERE id BETWEEN ? AND ? ORDER BY id"
)
# events::log (receipts, reactions).
INSERT_LOGGED_EVENT = (
    "INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, data, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# reactions::toggle (adding).
INSERT_REACTION = "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)"
EMOJI = ["\U0001F44D", "\u2764\uFE0F", "\U0001F602", "\U0001F389", "\U0001F62E"]


def vocabulary() -> list[str]:
    """The invented vocabulary of crates/parlor-store-sqlite/tests/search_bench.rs (2,304 words)."""
    syllables = ["ka", "lo", "mi", "ren", "sa", "tor", "vel", "un", "de", "bra", "qui", "zo", "pa", "ne",
                 "gil", "mo", "ash", "ter", "fi", "ol", "wen", "cha", "di", "rus"]
    return [a + b + c for a in syllables for b in syllables for c in ("", "n", "s", "ta")]


def sentence_pool(rnd: random.Random, size: int) -> list[str]:
    """Sentences of 6 to 20 roughly Zipf-distributed words, as in search_bench.rs."""
    words = vocabulary()
    v = len(words)
    rand = rnd.random
    pool = []
    for _ in range(size):
        n = 6 + rnd.randrange(15)
        pool.append(" ".join(words[min(int(v ** rand()) - 1, v - 1)] for _ in range(n)))
    return pool


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Bulk-fill a parlor SQLite data dir (created and migrated by the server, which must be "
        "stopped) with DMs, messages, events, read state and the search index.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("data_dir", help="the parlor --data-dir (its parlor.db is filled), or a .db file")
    p.add_argument("--messages", type=int, default=5_000_000, help="messages in total (history + heavy user)")
    p.add_argument("--conversations", type=int, default=1000,
                   help="history DMs (between 2x that many users); id 1 is the large one")
    p.add_argument("--large-messages", type=int, default=500_000,
                   help="messages in history conversation id 1 (0: spread evenly like the others)")
    p.add_argument("--heavy-conversations", type=int, default=1000, help="DMs of the heavy user bench-0")
    p.add_argument("--heavy-messages", type=int, default=10,
                   help="average messages per heavy-user DM (each gets between half and 1.5x)")
    p.add_argument("--heavy-unread-every", type=int, default=3,
                   help="every N-th heavy-user DM has 1-9 unread messages for bench-0 (0: none)")
    p.add_argument("--reply-rate", type=float, default=0.05, help="share of messages replying to the previous one")
    p.add_argument("--no-client-ids", action="store_true", help="store client_id NULL (as HTTP sends without one)")
    p.add_argument("--receipt-rate", type=float, default=0.0,
                   help="chance that the recipient's devices log messages_delivered + messages_read after a "
                   "message (receipt events in the log, as online WebSocket clients produce)")
    p.add_argument("--reaction-rate", type=float, default=0.02,
                   help="chance that the recipient reacts to a message (a reactions row and its reaction_changed "
                   "event, as reactions::toggle writes them)")
    p.add_argument("--no-notifications", action="store_true", help="do not write unread message notifications")
    p.add_argument("--days", type=float, default=30.0, help="the messages span this many days up to now")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=250_000, help="messages per transaction")
    p.add_argument("--pool", type=int, default=200_000, help="distinct message texts to draw from")
    p.add_argument("--cache-mb", type=int, default=2048, help="SQLite page cache during the fill")
    p.add_argument("--journal", choices=["off", "wal"], default="off",
                   help="journal during the fill (the file is put back in WAL mode at the end either way); "
                   "'off' writes every page once, 'wal' twice")
    p.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=False,
                   help="run ANALYZE at the end (the server never does, so a production database has no "
                   "sqlite_stat1 unless an operator ran it)")
    p.add_argument("--check", action="store_true", help="run the consistency checks after the fill")
    p.add_argument("--check-only", action="store_true", help="only run the consistency checks")
    a = p.parse_args(argv)
    if a.conversations < 1 or a.heavy_conversations < 0 or a.heavy_messages < 2 and a.heavy_conversations:
        p.error("need --conversations >= 1 and --heavy-messages >= 2")
    return a


def db_path(arg: str) -> str:
    if os.path.isdir(arg):
        path = os.path.join(arg, "parlor.db")
    else:
        path = arg
    if not os.path.exists(path):
        sys.exit(f"{path} does not exist: start `parlor serve --data-dir DIR` once (then stop it) so it creates "
                 "and migrates the database")
    return path


def check_fresh(con: sqlite3.Connection) -> None:
    try:
        applied = con.execute("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1").fetchone()[0]
    except sqlite3.OperationalError:
        sys.exit("no _sqlx_migrations table: this database was not created by the parlor server")
    if applied not in MIGRATIONS:
        sys.exit(f"{applied} migrations applied, this filler knows the schema after {MIGRATIONS}: "
                 "check the migrations against bench/fill_sqlite.py")
    for table, allowed in (("messages", 0), ("conversations", 0), ("events", 0), ("notifications", 0)):
        n = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        if n > allowed:
            sys.exit(f"{table} already has {n} rows: fill a fresh data dir")
    others = con.execute("SELECT COUNT(*) FROM users WHERE id != 0").fetchone()[0]
    if others:
        sys.exit(f"users already has {others} users besides the system user: fill a fresh data dir")


def fill(a: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    path = db_path(a.data_dir)
    rnd = random.Random(a.seed)

    C, H = a.conversations, a.heavy_conversations
    n_users = 1 + max(2 * C, H)
    n_conv = C + H

    # ---- plan: messages per conversation -------------------------------------------------------
    counts = [0] * (n_conv + 1)  # by conversation id
    unread_heavy = [0] * (n_conv + 1)
    heavy_total = 0
    for j in range(H):
        cid = C + 1 + j
        n = a.heavy_messages // 2 + rnd.randrange(a.heavy_messages + 1)
        n = max(n, 2)
        counts[cid] = n
        heavy_total += n
        if a.heavy_unread_every and j % a.heavy_unread_every == 0:
            unread_heavy[cid] = min(1 + (j // a.heavy_unread_every) % 9, n - 1)
    history_total = a.messages - heavy_total
    large = min(a.large_messages, history_total) if C > 1 else history_total
    if large and C > 1:
        counts[1] = large
        rest, first = history_total - large, 2
    else:
        rest, first = history_total, 1
    share = C - first + 1
    if rest < share:
        sys.exit(f"--messages {a.messages} is too small: {heavy_total} go to the heavy user's DMs, "
                 f"{large} to the large conversation, and each of {share} other history DMs needs one")
    base, extra = divmod(rest, share)
    for k in range(share):
        counts[first + k] = base + (1 if k < extra else 0)
    total = sum(counts)
    assert total == a.messages, (total, a.messages)

    # members: (low, high) user ids; index 0 = low
    mem_a = [0] * (n_conv + 1)
    mem_b = [0] * (n_conv + 1)
    for k in range(C):
        mem_a[k + 1], mem_b[k + 1] = 2 * k + 2, 2 * k + 3  # bench-(2k+1), bench-(2k+2)
    for j in range(H):
        mem_a[C + 1 + j], mem_b[C + 1 + j] = 1, j + 2  # bench-0, bench-(j+1)

    print(f"plan: {n_users} users, {C} history DMs (id 1: {counts[1]:,} messages, others ~{base:,}), "
          f"{H} DMs of bench-0 ({heavy_total:,} messages, {sum(1 for u in unread_heavy if u)} with unread), "
          f"{total:,} messages", flush=True)

    t = time.perf_counter()
    schedule: list[int] = []
    for cid in range(1, n_conv + 1):
        schedule.extend([cid] * counts[cid])
    rnd.shuffle(schedule)
    pool = sentence_pool(rnd, a.pool)
    print(f"planned and shuffled in {time.perf_counter() - t:.1f}s", flush=True)

    # ---- open ------------------------------------------------------------------------------------
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 0")
    check_fresh(con)
    webhooks = con.execute("SELECT COUNT(*) FROM webhooks").fetchone()[0]
    if webhooks:
        print(f"warning: {webhooks} webhooks registered: the schema's trigger fills webhook_outbox for every event, "
              "as the server would", flush=True)
    con.execute("PRAGMA locking_mode = EXCLUSIVE")
    if a.journal == "off":
        mode = con.execute("PRAGMA journal_mode = OFF").fetchone()[0]
    else:
        mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    con.execute("PRAGMA synchronous = OFF")
    con.execute(f"PRAGMA cache_size = -{a.cache_mb * 1024}")
    con.execute("PRAGMA temp_store = MEMORY")
    con.execute("PRAGMA foreign_keys = OFF")  # the rows are consistent by construction; checked below
    print(f"journal_mode during fill: {mode}", flush=True)

    now_ms = int(time.time() * 1000)
    span_ms = int(a.days * 86_400_000)
    t0 = now_ms - span_ms
    step = span_ms / max(total, 1)
    user_created = t0 - 86_400_000

    # ---- users -----------------------------------------------------------------------------------
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO users (id, username, external_id, display_name, avatar_url, password_hash, created_at) "
        "VALUES (?, NULL, ?, ?, NULL, NULL, ?)",
        ((i + 1, f"bench-{i}", f"Bench {i}", user_created) for i in range(n_users)),
    )
    con.execute("COMMIT")

    # ---- messages, events, search index ------------------------------------------------------------
    base_id = (con.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]) + 1
    mseq = [0] * (n_conv + 1)
    eseq = [0] * (n_conv + 1)
    read0 = [0] * (n_conv + 1)  # last_read_seq (= delivered_seq) of mem_a
    read1 = [0] * (n_conv + 1)  # ... of mem_b
    tail0 = [0] * (n_conv + 1)  # time of mem_a's first unread message
    tail1 = [0] * (n_conv + 1)
    last_id = [0] * (n_conv + 1)
    last_t = [0] * (n_conv + 1)
    first_t = [0] * (n_conv + 1)
    getbits = rnd.getrandbits
    random_ = rnd.random
    npool = len(pool)
    reply_rate = a.reply_rate
    receipt_rate = a.receipt_rate
    client_ids = not a.no_client_ids
    logged_written = 0
    reactions_written = 0
    reaction_rate = a.reaction_rate

    phases = [0.0, 0.0, 0.0, 0.0]
    t_msgs = time.perf_counter()
    for lo in range(0, total, a.batch):
        hi = min(total, lo + a.batch)
        tb0 = time.perf_counter()
        rows = []
        logged = []
        reactions = []
        append = rows.append
        for i in range(lo, hi):
            cid = schedule[i]
            seq = mseq[cid] + 1
            mseq[cid] = seq
            es = eseq[cid] + 1
            eseq[cid] = es
            created = t0 + int(i * step)
            if cid <= C:
                w = getbits(1)
                offline_tail = False
            else:
                # bench-0 (index 0) wrote last at seq n - u; the other side wrote the u after it.
                cut = counts[cid] - unread_heavy[cid]
                w = 1 if seq > cut or (cut - seq) & 1 else 0
                offline_tail = seq >= cut and unread_heavy[cid] > 0
            mid = base_id + i
            reply = last_id[cid] if reply_rate and last_id[cid] and random_() < reply_rate else None
            append((mid, cid, seq, es, mem_b[cid] if w else mem_a[cid], pool[int(random_() * npool)], reply,
                    "w-%032x" % getbits(128) if client_ids else None, created))
            if w:
                read1[cid] = seq
                if read0[cid] == seq - 1:
                    tail0[cid] = created
            else:
                read0[cid] = seq
                if read1[cid] == seq - 1:
                    tail1[cid] = created
            if not first_t[cid]:
                first_t[cid] = created
            last_id[cid] = mid
            last_t[cid] = created
            if receipt_rate and not offline_tail and random_() < receipt_rate:
                # read_state::mark_delivered then mark_read by the recipient, both logged (DMs have
                # fewer members than limits.receipt_events_max_members).
                other = mem_a[cid] if w else mem_b[cid]
                es = eseq[cid]
                logged.append((cid, es + 1, "messages_delivered", None, other, '{"up_to":%d}' % seq, created + 1))
                logged.append((cid, es + 2, "messages_read", None, other, '{"message_ids":[],"up_to":%d}' % seq,
                               created + 2))
                eseq[cid] = es + 2
                if w:
                    read0[cid] = seq
                else:
                    read1[cid] = seq
            if reaction_rate and not offline_tail and random_() < reaction_rate:
                # reactions::toggle by the recipient: the row and its logged reaction_changed event.
                other = mem_a[cid] if w else mem_b[cid]
                emoji = EMOJI[int(random_() * len(EMOJI))]
                es = eseq[cid] + 1
                eseq[cid] = es
                reactions.append((mid, emoji, other, created + 3))
                logged.append((cid, es, "reaction_changed", mid, other, '{"added":true,"emoji":"%s"}' % emoji,
                               created + 3))
        tb1 = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(INSERT_MESSAGE, rows)
        tb2 = time.perf_counter()
        con.execute(INSERT_CREATED_EVENTS, (base_id + lo, base_id + hi - 1))
        if logged:
            con.executemany(INSERT_LOGGED_EVENT, logged)
            logged_written += len(logged)
        if reactions:
            con.executemany(INSERT_REACTION, reactions)
            reactions_written += len(reactions)
        tb3 = time.perf_counter()
        if con.execute(INDEX_PENDING).rowcount > 0:
            con.execute(CLEAR_PENDING)
        con.execute("COMMIT")
        tb4 = time.perf_counter()
        phases[0] += tb1 - tb0
        phases[1] += tb2 - tb1
        phases[2] += tb3 - tb2
        phases[3] += tb4 - tb3
        el = tb4 - t_msgs
        print(f"  {hi:>10,} messages  {el:7.1f}s  {hi / el:9,.0f} msg/s  (this batch: plan {tb1 - tb0:.1f}s, "
              f"messages {tb2 - tb1:.1f}s, events {tb3 - tb2:.1f}s, search index+commit {tb4 - tb3:.1f}s)",
              flush=True)
    t_msgs = time.perf_counter() - t_msgs

    # ---- conversations, members, notifications ---------------------------------------------------
    con.execute("BEGIN")
    conv_rows, member_rows, notes = [], [], []
    for cid in range(1, n_conv + 1):
        created = (first_t[cid] or t0) - 60_000
        a_, b_ = mem_a[cid], mem_b[cid]
        conv_rows.append((cid, f"{a_}:{b_}", created, last_t[cid] or created, last_id[cid] or None,
                          mseq[cid], eseq[cid]))
        for user, other, read, tail in ((a_, b_, read0[cid], tail0[cid]), (b_, a_, read1[cid], tail1[cid])):
            member_rows.append((cid, user, created, read, read))
            unread = mseq[cid] - read
            if unread > 0 and not a.no_notifications:
                notes.append((last_t[cid], user, cid, last_id[cid], other, unread, tail))
    con.executemany(
        "INSERT INTO conversations (id, kind, direct_key, created_at, last_activity_at, last_message_id, "
        "last_message_seq, last_event_seq) VALUES (?, 'direct', ?, ?, ?, ?, ?, ?)",
        conv_rows,
    )
    con.executemany(
        "INSERT INTO members (conversation_id, user_id, joined_at, last_read_seq, role, delivered_seq) "
        "VALUES (?, ?, ?, ?, 'member', ?)",
        member_rows,
    )
    notes.sort()  # a folded notification is re-inserted at each message: ids follow updated_at
    con.executemany(
        "INSERT INTO notifications (user_id, kind, conversation_id, message_id, actor_id, connection_id, count, "
        "created_at, updated_at) VALUES (?, 'message', ?, ?, ?, NULL, ?, ?, ?)",
        ((u, c, m, o, n, tail, upd) for (upd, u, c, m, o, n, tail) in notes),
    )
    con.execute("COMMIT")

    # ---- finish ----------------------------------------------------------------------------------
    t = time.perf_counter()
    pending = con.execute("SELECT COUNT(*) FROM messages_fts_pending").fetchone()[0]
    assert pending == 0, pending
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_words'").fetchone():
        # What search::index_pending learns batch by batch: the index's words (migration 0019).
        con.execute("INSERT OR IGNORE INTO messages_fts_words (word) SELECT term FROM messages_fts_vocab")
    if a.analyze:
        con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA locking_mode = NORMAL")
    con.execute("SELECT 1 FROM users LIMIT 1").fetchone()  # releases the exclusive lock
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    t_finish = time.perf_counter() - t

    size = os.path.getsize(path)
    elapsed = time.perf_counter() - t_start
    print(f"filled {path}")
    print(f"  users {n_users:,}  conversations {n_conv:,}  members {len(member_rows):,}  messages {total:,}  "
          f"events {total + logged_written:,}  reactions {reactions_written:,}  notifications {len(notes):,}")
    print(f"  messages+events+fts {t_msgs:.1f}s ({total / t_msgs:,.0f} msg/s: plan {phases[0]:.1f}s, messages "
          f"{phases[1]:.1f}s, events {phases[2]:.1f}s, search index+commit {phases[3]:.1f}s), finish {t_finish:.1f}s, "
          f"total {elapsed:.1f}s")
    print(f"  database {size / 2**20:,.0f} MiB")
    print(f"  heavy user: external id bench-0 (users.id 1), conversations {C + 1}..{C + H}")
    print(f"  large conversation: id 1 ({counts[1]:,} messages) between bench-1 and bench-2")


CHECKS = [
    ("conversations whose last_message_seq is not their message count / highest seq",
     "SELECT COUNT(*) FROM conversations c WHERE c.last_message_seq != "
     "(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) OR c.last_message_seq != "
     "(SELECT COALESCE(MAX(seq), 0) FROM messages m WHERE m.conversation_id = c.id)"),
    ("conversations whose last_event_seq is not their event count / highest seq",
     "SELECT COUNT(*) FROM conversations c WHERE c.last_event_seq != "
     "(SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id) OR c.last_event_seq != "
     "(SELECT COALESCE(MAX(seq), 0) FROM events e WHERE e.conversation_id = c.id)"),
    ("messages without their message_created event",
     "SELECT COUNT(*) FROM messages m LEFT JOIN events e ON e.conversation_id = m.conversation_id "
     "AND e.seq = m.event_seq WHERE e.kind IS NOT 'message_created' OR e.message_id IS NOT m.id "
     "OR e.actor_id IS NOT m.sender_id OR e.created_at IS NOT m.created_at"),
    ("message_created events without their message",
     "SELECT COUNT(*) FROM events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.kind = 'message_created' "
     "AND (m.id IS NULL OR m.event_seq != e.seq)"),
    ("conversations whose last_message_id / last_activity_at is not their last message",
     "SELECT COUNT(*) FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id "
     "WHERE m.seq IS NOT c.last_message_seq OR m.created_at IS NOT c.last_activity_at OR m.conversation_id IS NOT c.id"),
    ("members whose read/delivered position is past the last message or behind their own last message",
     "SELECT COUNT(*) FROM members mb JOIN conversations c ON c.id = mb.conversation_id "
     "WHERE mb.last_read_seq > c.last_message_seq OR mb.delivered_seq > c.last_message_seq "
     "OR mb.last_read_seq < COALESCE((SELECT MAX(seq) FROM messages m WHERE m.conversation_id = mb.conversation_id "
     "AND m.sender_id = mb.user_id), 0)"),
    ("messages whose sender is not a member", "SELECT COUNT(*) FROM messages m LEFT JOIN members mb "
     "ON mb.conversation_id = m.conversation_id AND mb.user_id = m.sender_id WHERE mb.user_id IS NULL"),
    ("replies to a message of another conversation", "SELECT COUNT(*) FROM messages m JOIN messages r "
     "ON r.id = m.reply_to WHERE r.conversation_id != m.conversation_id OR r.id >= m.id"),
    ("reaction_changed events without their reaction (or the other way round)",
     "SELECT (SELECT COUNT(*) FROM reactions) - (SELECT COUNT(*) FROM events WHERE kind = 'reaction_changed') + "
     "(SELECT COUNT(*) FROM events e JOIN messages m ON m.id = e.message_id WHERE e.kind = 'reaction_changed' "
     "AND (m.conversation_id != e.conversation_id OR NOT EXISTS (SELECT 1 FROM reactions x "
     "WHERE x.message_id = e.message_id AND x.user_id = e.actor_id)))"),
    ("unread message notifications whose count is not the member's unread count (only right after a fill: "
     "the server leaves a notification unread when its owner writes instead of reading)",
     "SELECT COUNT(*) FROM notifications n JOIN members mb ON mb.conversation_id = n.conversation_id "
     "AND mb.user_id = n.user_id JOIN conversations c ON c.id = n.conversation_id WHERE n.read_at IS NULL "
     "AND n.kind = 'message' AND n.count != c.last_message_seq - mb.last_read_seq"),
    ("messages not yet indexed", "SELECT COUNT(*) FROM messages_fts_pending"),
    ("webhook outbox rows", "SELECT COUNT(*) FROM webhook_outbox"),
]


def check(path: str) -> bool:
    """Consistency checks over the whole database (a few minutes for 5M messages)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.execute("PRAGMA cache_size = -1048576")
    ok = True
    for what, sql in CHECKS:
        t = time.perf_counter()
        n = con.execute(sql).fetchone()[0]
        bad = n != 0 and not what.startswith(("webhook outbox rows", "unread message notifications"))
        ok &= not bad
        mark = "FAIL" if bad else "ok  " if n == 0 else "note"
        print(f"  {mark} {n:>8}  {what}  ({time.perf_counter() - t:.1f}s)", flush=True)
    fk = con.execute("PRAGMA foreign_key_check").fetchall()
    print(f"  {'FAIL' if fk else 'ok  '} {len(fk):>8}  foreign key violations", flush=True)
    ok &= not fk
    con.close()
    rw = sqlite3.connect(path)
    try:
        rw.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        print("  ok           search index matches the messages table (FTS5 integrity-check)")
    except sqlite3.DatabaseError as e:
        print(f"  FAIL         search index: {e}")
        ok = False
    rw.close()
    return ok


def main() -> None:
    args = parse_args(sys.argv[1:])
    if not args.check_only:
        fill(args)
    if args.check or args.check_only:
        print("checking", flush=True)
        if not check(db_path(args.data_dir)):
            sys.exit(1)


if __name__ == "__main__":
    main()
