#!/usr/bin/env python3
"""Times message searches through HTTP against a running parlor server (Python 3.11 stdlib only).

Usage (a data dir filled by bench/fill_sqlite.py, the server started on it):
    python3 bench/search.py --url http://127.0.0.1:18080 --secret $PARLOR_JWT_SECRET \\
        [--user 0] [--runs 200] [--warmup 20] [--limit 20] [--pages 5] [--pause-ms 20] QUERY...

For each QUERY, the searcher (the load generator's host-app token for --user, so bench-0 is the
fill's heavy user) asks for the first page --runs times, one request at a time, and for
--pages pages by cursor (the next_cursor of each page) when the server gives one. It prints, per
query, how many hits the first page had, p50/p90/p99/max of the first page's latency and the same
for the cursor pages (every 10th run). Latency is the whole request over one keep-alive
connection, as a browser tab makes it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import statistics
import time
import urllib.parse


def token(secret: str, index: int) -> str:
    """The load generator's host-app token (crates/parlor-bench/src/fixture.rs)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    claims = b64(json.dumps({"sub": f"bench-{index}", "name": f"Bench {index}",
                             "exp": int(time.time()) + 24 * 3600}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def get(conn: http.client.HTTPConnection, path: str, bearer: str) -> tuple[float, dict]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {bearer}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
    return elapsed, json.loads(body)


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "-"
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return (f"p50 {statistics.median(s):6.1f}  p90 {pick(0.90):6.1f}  p99 {pick(0.99):6.1f}  "
            f"max {s[-1]:6.1f} ms (n={len(s)})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("queries", nargs="+")
    p.add_argument("--url", default="http://127.0.0.1:18080")
    p.add_argument("--secret", required=True)
    p.add_argument("--user", type=int, default=0, help="the searcher: bench-USER")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--pages", type=int, default=5, help="cursor pages after each first page (0: none)")
    p.add_argument("--pause-ms", type=float, default=20, help="pause between runs")
    a = p.parse_args()
    target = urllib.parse.urlsplit(a.url)
    bearer = token(a.secret, a.user)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    for q in a.queries:
        first_ms, pages_ms, hits = [], [], 0
        for run in range(a.warmup + a.runs):
            params = {"q": q, "limit": a.limit}
            ms, body = get(conn, "/api/chat/search/messages/?" + urllib.parse.urlencode(params), bearer)
            hits = len(body["results"])
            if run < a.warmup:
                continue
            first_ms.append(ms)
            cursor = body.get("next_cursor")
            for _ in range(a.pages if run % 10 == 0 else 0):
                if not cursor:
                    break
                ms, body = get(conn, "/api/chat/search/messages/?" + urllib.parse.urlencode(
                    {**params, "cursor": cursor}), bearer)
                pages_ms.append(ms)
                cursor = body.get("next_cursor")
            time.sleep(a.pause_ms / 1000)
        print(f"{q!r:12} first page ({hits} hits): {percentiles(first_ms)}")
        if pages_ms:
            print(f"{'':12} cursor pages:            {percentiles(pages_ms)}")


if __name__ == "__main__":
    main()
