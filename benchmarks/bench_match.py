"""Time local topic matching: 10 typical topics against synthetic papers.

Each round builds fresh documents, so tokenising every paper once is part of the figure, as in a
real run. Prints the median over several rounds and the implied rate for 100,000 papers.

Usage: python benchmarks/bench_match.py [PAPERS] [ROUNDS]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timezone

from arxiv_radar.paper import Paper
from arxiv_radar.query import Query, any_phrase, parse, topics_for

_VOCABULARY = (
    "learning models neural network data training image graph language transformer attention "
    "diffusion robust efficient sparse optimal bound convex gradient stochastic inference "
    "gaussian splatting radiance fields avatar game vision-language 3D reconstruction scene "
    "representation latent adversarial benchmark dataset method results we propose show that "
    "the of and a in for with on to by from this our approach performance state art novel "
    "large segmentation detection robot policy reinforcement"
)
_WORDS = tuple(_VOCABULARY.split())
_NAMES = ("Ada Lovelace", "Geoffrey E. Hinton", "Yann LeCun", "Adrian Del Maestro", "Jürgen Li")
_CATEGORIES = ("cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "stat.ML", "eess.IV", "math.OC")
_WHEN = datetime(2026, 1, 5, tzinfo=timezone.utc)

TOPICS: dict[str, Query] = {
    "splatting": parse('ti:"gaussian splatting" OR abs:"3D gaussian"'),
    "avatars": parse("all:avatar ANDNOT all:game"),
    "nerf": any_phrase(["NeRF", "radiance fields", "neural rendering"]),
    "diffusion": parse("ti:diffus* AND (abs:image OR abs:video) AND cat:cs.*"),
    "vlm": parse('abs:"vision-language" OR ti:"large language models"'),
    "robots": parse("cat:cs.RO AND (abs:policy OR abs:reinforcement)"),
    "hinton": parse('au:hinton OR au:"adrian del maestro"'),
    "segmentation": any_phrase(["segmentation", "detection", "scene understanding"]),
    "theory": parse("abs:convex AND abs:bound ANDNOT cat:cs.CV"),
    "quantum": parse("all:schrodinger OR ti:quantum"),
}


def _abstract(rng: random.Random) -> str:
    """180 words; like real abstracts, some carry LaTeX and a few non-ASCII letters."""
    words = rng.choices(_WORDS, k=180)
    if rng.random() < 0.3:
        words[rng.randrange(180)] = "$\\mathcal{O}(n)$"
    if rng.random() < 0.1:
        words[rng.randrange(180)] = "Schrödinger"
    return " ".join(words)


def synthetic_papers(count: int, seed: int = 7) -> list[Paper]:
    rng = random.Random(seed)
    return [
        Paper(
            arxiv_id=f"2601.{index:05d}",
            version=1,
            title=" ".join(rng.choices(_WORDS, k=10)).capitalize(),
            authors=tuple(rng.sample(_NAMES, k=3)),
            abstract=_abstract(rng),
            categories=tuple(rng.sample(_CATEGORIES, k=2)),
            primary_category="cs.CV",
            published=_WHEN,
            updated=_WHEN,
        )
        for index in range(count)
    ]


def one_round(papers: list[Paper]) -> tuple[float, int]:
    start = time.perf_counter()
    hits = sum(len(topics_for(paper, TOPICS)) for paper in papers)
    return time.perf_counter() - start, hits


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    papers = synthetic_papers(count)
    timings = [one_round(papers) for _ in range(rounds)]
    median = statistics.median(seconds for seconds, _ in timings)
    print(f"{len(TOPICS)} topics x {count} papers: median {median:.3f} s over {rounds} rounds")
    print(
        f"matches per round: {timings[0][1]}; 100,000 papers = about {median * 1e5 / count:.1f} s"
    )


if __name__ == "__main__":
    main()
