"""Plots for docs/benchmarks.md from the JSON reports bench/run wrote.

    python3 bench/plot.py docs/bench/results docs/bench

latency.png: delivery latency (p50, p99) against deliveries per second, one line per ramp.
memory.png: server RSS against idle connections held (parlor; the Django peer where measured).
"""

import json
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


def main() -> None:
    results, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    latency_plot(results, out)
    memory_plot(results, out)
    print(f"plots written to {out}")


if __name__ == "__main__":
    main()
