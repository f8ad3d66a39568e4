"""Plots for docs/benchmarks.md from the JSON reports bench/run wrote.

    python3 bench/plot.py docs/bench/results docs/bench

latency.png: delivery latency (p50, p99) against deliveries per second, one line per ramp.
memory.png: server RSS against idle connections held (parlor; the Django peer where measured).
conversations.png: the DM ceiling (msgs/s) and the latency at one fixed rate against the
    number of conversations (scale_conversations).
room-size.png: per message, the delivery to the room's last member against its size
    (scale_rooms).
A plot whose reports are missing is not drawn.
"""

import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RAMPS = {
    "dms-full": "parlor, DMs, SQLite synchronous=FULL",
    "dms-normal": "parlor, DMs, SQLite synchronous=NORMAL",
    "dms-postgres": "parlor, DMs, PostgreSQL",
    "rooms-100": "parlor, 100-member rooms, NORMAL",
    "side-parlor": "parlor, seed 001 protocol, 1 core",
    "side-django": "Django Channels, seed 001, 1 core",
}


def load(results: Path, name: str):
    path = results / f"{name}.json"
    if not path.exists():
        return None
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def latency_plot(results: Path, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name, label in RAMPS.items():
        ramp = load(results, name)
        if not ramp:
            continue
        steps = [s["report"] for s in ramp["steps"]]
        x = [s["deliveries_per_sec"] for s in steps]
        (line,) = ax.plot(x, [s["latency"]["p99"] for s in steps], marker="o", label=f"{label} (p99)")
        ax.plot(x, [s["latency"]["p50"] for s in steps], marker=".", linestyle=":", color=line.get_color(),
                label=f"{label} (p50)")
    ax.axhline(25, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("deliveries per second (log)")
    ax.set_ylabel("end-to-end latency, ms (log)")
    ax.set_title("Delivery latency against load (server and generator on one 2-core machine)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)


def idle_points(report, offset: int = 0):
    return [(offset + s["connections"], s["server_rss_mib"]) for s in report["steps"] if s["server_rss_mib"]]


def memory_plot(results: Path, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    points = []
    a, b = load(results, "idle-a"), load(results, "idle-b")
    if a:
        points += idle_points(a)
    if b:
        points += idle_points(b, offset=max((p[0] for p in points), default=0))
    if points:
        ax.plot(*zip(*points), marker="o", label="parlor /ws/ (two generator processes)")
    for name, label in (("side-parlor-idle", "parlor, seed 001 sockets"), ("side-django-idle", "Django Channels")):
        report = load(results, name)
        if report:
            ax.plot(*zip(*idle_points(report)), marker="s", label=label)
    ax.set_xlabel("idle authenticated connections")
    ax.set_ylabel("server RSS, MiB")
    ax.set_title("Server memory against idle connections")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "memory.png", dpi=110)


def by_size(results: Path, pattern: str) -> list[tuple[int, dict]]:
    """The reports whose names match `pattern` (one group: a size), by size."""
    found = []
    for path in results.glob("*.json"):
        match = re.fullmatch(pattern, path.stem)
        report = load(results, path.stem) if match else None
        if report:
            found.append((int(match.group(1)), report))
    return sorted(found, key=lambda item: item[0])


def conversations_plot(results: Path, out: Path) -> None:
    fixed = by_size(results, r"conversations-(\d+)")
    ramps = by_size(results, r"conversations-(\d+)-ramp")
    if not fixed and not ramps:
        return
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    if ramps:
        x = [n for n, _ in ramps]
        top.plot(x, [r["highest_rate"] or 0 for _, r in ramps], marker="o",
                 label=f"highest rate with p99 <= {ramps[0][1]['p99_bound_ms']:g} ms, nothing lost")
    if fixed:
        rate = fixed[0][1]["rate"]
        x = [n for n, _ in fixed]
        top.plot(x, [r["acknowledged"] / r["duration"] if r["acknowledged"] else 0 for _, r in fixed],
                 marker="s", linestyle=":", label=f"acknowledged per second at {rate:g} msg/s offered")
        bottom.plot(x, [r["latency"]["p99"] for _, r in fixed], marker="o", label=f"p99 at {rate:g} msg/s")
        bottom.plot(x, [r["latency"]["p50"] for _, r in fixed], marker=".", linestyle=":",
                    label=f"p50 at {rate:g} msg/s")
    top.set_ylabel("messages per second")
    top.set_title("Direct conversations: throughput and latency against their number (SQLite NORMAL)")
    bottom.set_ylabel("end-to-end latency, ms")
    bottom.set_xlabel("direct conversations (log); sockets: 2 per conversation up to 1,000")
    for ax in (top, bottom):
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "conversations.png", dpi=110)


def room_size_plot(results: Path, out: Path) -> None:
    rooms = [(n, r) for n, r in by_size(results, r"room-size-(\d+)") if r.get("last_member")]
    if not rooms:
        return
    fig, ax = plt.subplots(figsize=(9, 5.5))
    x = [n for n, _ in rooms]
    ax.plot(x, [r["last_member"]["p99"] for _, r in rooms], marker="o", label="last member, p99")
    ax.plot(x, [r["last_member"]["p50"] for _, r in rooms], marker=".", linestyle=":", label="last member, p50")
    ax.plot(x, [r["latency"]["p50"] for _, r in rooms], marker="x", linestyle="--", label="every delivery, p50")
    ax.axhline(100, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("room members (log)")
    ax.set_ylabel("latency per message, ms (log)")
    ax.set_title(f"Delivery to a room's last member against its size ({rooms[0][1]['rate']:g} msg/s)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "room-size.png", dpi=110)


def main() -> None:
    results, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    latency_plot(results, out)
    memory_plot(results, out)
    conversations_plot(results, out)
    room_size_plot(results, out)
    print(f"plots written to {out}")


if __name__ == "__main__":
    main()
