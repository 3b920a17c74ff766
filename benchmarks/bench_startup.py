"""How fast `arxiv-radar` starts: median wall time of `--help`, as a user's shell runs it.

Each figure is the median of RUNS runs of the installed console script in a fresh process
(issue 10 target: `arxiv-radar --help` <= 0.15 s), beside the bare interpreter and `import click`
for scale: those are the floor no change in arxiv-radar can go under. `status --help` and
`run --help` also parse the group's options and configure logging first.

Usage: python benchmarks/bench_startup.py [RUNS]   (default 20)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.15
RUNS = 20


def _median_wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else RUNS
    script = str(Path(sys.executable).with_name("arxiv-radar"))
    floor = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click'": [sys.executable, "-c", "import click"],
    }
    for label, command in floor.items():
        print(f"{label:<28} median {_median_wall(command, runs):.3f} s   (floor)")
    for args in (["--help"], ["status", "--help"], ["run", "--help"]):
        wall = _median_wall([script, *args], runs)
        verdict = "PASS" if wall <= TARGET_SECONDS else "FAIL"
        label = " ".join(["arxiv-radar", *args])
        print(f"{label:<28} median {wall:.3f} s   target <= {TARGET_SECONDS} s   {verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])
