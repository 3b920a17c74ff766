"""The scale benchmark (benchmarks/bench_scale.py) at a toy size, so it cannot rot.

It runs as a user runs it, a subprocess over the installed CLI: a store of a few hundred
papers from the real corpus, every figure of issue 10. Its verdicts at this size mean little
(a toy store has few papers to share the fixed costs); what must hold is that every figure is
measured, with no command failing, and that the figures are what they say (the run stored the
day it was served, the rebuilt store holds every paper, a second call reuses the store).
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_scale.py"
CORPUS = ROOT / ".." / "shared" / "data" / "corpus" / "papers.jsonl"
FIGURE = re.compile(r"^ +(\d)\. \S")

pytestmark = pytest.mark.slow


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def figures(output: str) -> dict[str, list[str]]:
    """Figure number -> its printed lines (value, target, verdict)."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        match = FIGURE.match(line)
        if match:
            found.setdefault(match.group(1), []).append(line)
    return found


def test_every_figure_is_measured_at_a_toy_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not CORPUS.is_file():
        pytest.skip("the corpus ../shared/data/corpus/papers.jsonl is absent")
    today = datetime.now(timezone.utc).date()
    toy = ("--runs", "1", "--daily", "40", "--help-runs", "2", "--git-cycles", "1")
    result = bench("--sizes", "400,700", *toy, "--work", str(tmp_path), "--today", str(today))
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert "error:" not in output, output
    printed = figures(output)
    assert sorted(printed) == [str(n) for n in range(1, 10)], output
    # Per size: 1-8 once each; 4 and 7 also compare the two sizes; 9 once in all.
    assert {n: len(lines) for n, lines in printed.items()} == {
        "1": 2,
        "2": 2,
        "3": 2,
        "4": 3,
        "5": 2,
        "6": 2,
        "7": 3,
        "8": 2,
        "9": 1,
    }, output
    for number in ("1", "2", "3", "5", "6", "8", "9"):
        assert all(line.rstrip().endswith(("PASS", "FAIL")) for line in printed[number]), output
    assert "built 400 papers" in output
    assert "rewritten:" in output
    assert "the cold state packs into" in output
    assert_reused(tmp_path, today, capsys)


def assert_reused(work: Path, today: date, capsys: pytest.CaptureFixture[str]) -> None:
    """A second benchmark finds the store it built and does not build it again."""
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench_scale
    finally:
        sys.path.remove(str(BENCH.parent))
    (built,) = work.glob("base-400-*")
    stamp = (built / ".complete").stat().st_mtime_ns
    options = bench_scale.options(["--work", str(work), "--today", str(today)])
    setup = bench_scale.Bench(
        work=work,
        runs=1,
        daily=40,
        help_runs=1,
        git_cycles=1,
        today=options.today,
        only=set(),
        records=bench_scale.load_corpus(CORPUS),
    )
    base = bench_scale.base_workspace(setup, 400)
    assert base.folder == built
    assert base.papers == 400
    assert (built / ".complete").stat().st_mtime_ns == stamp
    assert "built" not in capsys.readouterr().out


def test_skips_with_a_message_without_the_corpus(tmp_path: Path) -> None:
    result = bench("--sizes", "100", "--work", str(tmp_path), "--corpus", str(tmp_path / "no"))
    assert result.returncode == 0
    assert result.stdout.startswith("SKIP: the corpus")
    assert str(tmp_path / "no") in result.stdout
