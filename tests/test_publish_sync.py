"""`arxiv-radar publish` makes its pages durable with one sync, before it records them.

The CLI runs in a subprocess through a small wrapper that counts ``os.fsync``/``os.sync`` calls
by the module that asked for them (the first caller outside the sync helpers), and notes the
fingerprints the store holds at the moment of the sync. A second wrapper mode stands in for a
power cut at that moment: the pages this publish wrote are torn in half, as a crash before the
sync may leave them, and the process dies; the next publish must repair every one of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from arxiv_radar.store import Store
from tests.test_publish_incremental import add_day, publish, tree, workspace

OLD_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09: every page written before the test's run

# argv: REPORT MODE DATABASE CLI-ARGS...; MODE "count" or "power-cut".
_WRAPPER = """
import json, os, sys
from pathlib import Path

report, mode, database = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
calls, recorded_at_sync = {}, []
_OWN = ("arxiv_radar.durability", "arxiv_radar.publish.files", "contextlib")

def asker():
    frame = sys._getframe(2)
    while frame.f_globals.get("__name__") in _OWN:
        frame = frame.f_back
    return frame.f_globals.get("__name__", "?")

def power_cut():
    root = database.parent
    torn = 0
    for path in [*(root / "docs").rglob("*"), root / "README.md"]:
        if path.is_file() and path.stat().st_mtime_ns > 10**18 + 10**15:  # not aged: new
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
            torn += 1
    report.write_text(json.dumps({"torn": torn}))
    os._exit(9)

def counted(name, real):
    def call(*args):
        who = asker()
        calls.setdefault(who, {}).setdefault(name, 0)
        calls[who][name] += 1
        if name == "sync" and who == "arxiv_radar.publish.digest":
            if mode == "power-cut":
                power_cut()
            from arxiv_radar.store import Store
            with Store.open(database, readonly=True) as store:
                recorded_at_sync.append(store.output_fingerprints())
        return real(*args)
    return call

for name in ("fsync", "sync"):
    if hasattr(os, name):
        setattr(os, name, counted(name, getattr(os, name)))

from arxiv_radar.cli import main
try:
    main(sys.argv[4:])
finally:
    report.write_text(json.dumps({"calls": calls, "recorded_at_sync": recorded_at_sync}))
"""


def run_publish(ws_root: Path, database: Path, mode: str = "count") -> dict[str, Any]:
    """``arxiv-radar publish`` in ``ws_root`` under the wrapper; what the wrapper reported."""
    report = ws_root / "wrapper-report.json"
    command = ["publish", "-c", str(ws_root / "arxiv-radar.yml")]
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(report), mode, str(database), *command],
        cwd=ws_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == (9 if mode == "power-cut" else 0), done.stderr
    result: dict[str, Any] = json.loads(report.read_text("utf-8"))
    report.unlink()
    return result


def recorded(database: Path) -> dict[str, str]:
    with Store.open(database, readonly=True) as store:
        return store.output_fingerprints()


def pages(root: Path) -> list[Path]:
    return [p for p in (root / "docs").rglob("*") if p.is_file()] + [root / "README.md"]


def test_a_publish_syncs_once_before_it_records_the_fingerprints(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "site", tmp_path / "site" / "radar.db")
    with Store.open(ws.database) as store:
        for day in range(0, 60, 2):
            add_day(store, day, 8)

    cold = run_publish(ws.root, ws.database)
    assert len(pages(ws.root)) > 50  # an fsync per file and folder would be over 100 calls
    assert cold["calls"]["arxiv_radar.publish.digest"] == {"sync": 1}
    assert not [who for who in cold["calls"] if who.startswith("arxiv_radar.publish.")][1:]
    assert sum(n for calls in cold["calls"].values() for n in calls.values()) <= 3  # + state
    assert cold["recorded_at_sync"] == [{}]  # synced first, recorded after
    assert len(recorded(ws.database)) > 20

    with Store.open(ws.database) as store:
        add_day(store, 61, 5)
    before = recorded(ws.database)
    daily = run_publish(ws.root, ws.database)
    assert daily["calls"]["arxiv_radar.publish.digest"] == {"sync": 1}
    assert daily["recorded_at_sync"] == [before] != [recorded(ws.database)]

    idle = run_publish(ws.root, ws.database)  # nothing new: nothing written, nothing synced
    assert "arxiv_radar.publish.digest" not in idle["calls"]


def test_a_power_cut_before_the_sync_is_repaired_by_the_next_publish(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "site", tmp_path / "site" / "radar.db")
    with Store.open(ws.database) as store:
        for day in range(0, 40, 2):
            add_day(store, day, 6)
    publish(ws)
    for page in pages(ws.root):
        os.utime(page, ns=(OLD_NS, OLD_NS))
    with Store.open(ws.database) as store:
        add_day(store, 41, 7)  # a new day: its month, the home page, feeds, exports are stale
        add_day(store, 3, 2)  # and an old month changes too

    cut = run_publish(ws.root, ws.database, mode="power-cut")
    assert cut["torn"] >= 10

    run_publish(ws.root, ws.database)
    scratch = workspace(tmp_path / "scratch", ws.database)
    publish(scratch)
    mended, fresh = (
        {name: data for name, data in tree(root).items() if name.startswith(("docs/", "README"))}
        for root in (ws.root, scratch.root)
    )
    assert sorted(mended) == sorted(fresh)
    for name, data in fresh.items():
        assert mended[name] == data, name
