"""The score: the maximum over a topic's seed groups, plus followed authors, minus dislikes.

A maximum, not a mean: a reader with three interests has three groups of seeds, and a paper close
to one of them is relevant even though it is far from the other two. A mean over all seeds (what
zotero-arxiv-daily does over a whole library) dilutes each interest into a blur. Within one group
the similarities are averaged: on real data (benchmarks/bench_rank.py) the maximum over single
seeds lets one odd seed pull in its look-alikes, the group average does not.

Seeds are grouped by average-linkage clustering of their cosines: seeds that share more than a
trace of vocabulary (``GROUP_LINK``) form one interest. A group's similarity is lifted by how
well the paper's arXiv categories match the group's (``CATEGORY_LIFT``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.linear_model import LogisticRegression

from arxiv_radar.rank.features import TermSpace
from arxiv_radar.rank.reasons import Evidence

__all__ = ["FOLLOW_BONUS", "Candidate", "Profile", "Scored", "Seed", "normalise_name", "score"]

FOLLOW_BONUS = 0.3  # a followed author lifts a paper about as much as a fairly close seed
DISLIKE_WEIGHT = 0.5  # how much likeness to a down-voted paper costs
GROUP_LINK = 0.03  # average seed cosine above which seeds count as one interest
# A paper whose categories match the seed group's fully scores up to (1 + CATEGORY_LIFT) times
# its text similarity: categories help where words are shared across fields (benchmark: category
# tasks 0.36 -> 0.77 precision@20, trait tasks within one category unchanged within noise).
CATEGORY_LIFT = 2.0
_EXPLAINED = 5  # nearest seeds kept per paper for --explain
# A category more than this share of the store carries explains nothing: the reason skips it.
_TELLING_SHARE = 0.2


@dataclass(frozen=True)
class Seed:
    """A paper the reader wants more of (or, among ``Profile.down``, less of)."""

    key: str  # arXiv id, or "file:<title>" for an export entry without one
    title: str
    text: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    arxiv_id: str
    title: str
    text: str
    authors: tuple[str, ...]
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """What one topic's ranking is built from."""

    topic: str
    seeds: tuple[Seed, ...]
    follow: tuple[str, ...] = ()
    down: tuple[Seed, ...] = ()
    classifier_min_labels: int = 20
    labels: int = 0  # up- and down-votes in feedback (up-votes are also in ``seeds``)


@dataclass(frozen=True)
class Scored:
    arxiv_id: str
    score: float
    evidence: Evidence
    nearest: tuple[tuple[str, float], ...]  # (seed key, cosine), closest first, for --explain


def normalise_name(name: str) -> str:
    """Names compare as arXiv writes them, ignoring case, accents and spacing only."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _followed(wanted: frozenset[str], authors: Sequence[str]) -> tuple[str, ...]:
    """The paper's author names (as written on the paper) that a followed name matches."""
    if not wanted:
        return ()
    return tuple(a for a in authors if normalise_name(a) in wanted)


def _similarities(space: TermSpace, seeds: Sequence[Seed], rows: Any) -> tuple[Any, Any]:
    """(candidate x seed cosines, seed rows)."""
    if not seeds:
        return np.zeros((rows.shape[0], 0)), None
    seed_rows = space.vectors([seed.text for seed in seeds])
    return np.asarray((rows @ seed_rows.T).todense(), dtype=np.float64), seed_rows


def _classifier(space: TermSpace, profile: Profile, rows: Any) -> Any | None:
    """With enough labels, a logistic regression on the same features: seeds and up-votes
    against down-votes. Returns each candidate's probability of being wanted."""
    if profile.labels < profile.classifier_min_labels or not profile.down or not profile.seeds:
        return None
    examples = [*profile.seeds, *profile.down]
    targets = [1] * len(profile.seeds) + [0] * len(profile.down)
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(space.vectors([seed.text for seed in examples]), targets)
    return model.predict_proba(rows)[:, 1]


def seed_groups(seed_rows: Any) -> list[list[int]]:
    """Seed indexes grouped into interests (average linkage on cosine distance)."""
    count = seed_rows.shape[0]
    if count < 2:
        return [list(range(count))]
    distances = 1 - np.asarray((seed_rows @ seed_rows.T).todense(), dtype=np.float64)
    np.fill_diagonal(distances, 0)
    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=1 - GROUP_LINK,
    ).fit_predict(np.clip(distances, 0, None))
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(index)
    return sorted(groups.values())


@dataclass(frozen=True)
class _Matrices:
    """Everything per candidate, computed for all candidates at once."""

    value: list[float]  # the winning group's mean similarity, lifted by categories
    group: list[int]  # size of the winning group
    lift: list[float]  # the winning group's category factor
    shared: list[tuple[str, ...]]  # the paper's categories the winning group's seeds carry
    nearest: list[list[int]]  # seed indexes, closest first (at most _EXPLAINED)
    nearest_sims: list[list[float]]
    terms: list[list[str]]  # terms shared most with the nearest seed
    disliked: list[tuple[int, float] | None]


def _seed_matrices(
    space: TermSpace, profile: Profile, candidates: Sequence[Candidate], rows: Any
) -> _Matrices:
    count = rows.shape[0]
    sims, seed_rows = _similarities(space, profile.seeds, rows)
    down, _ = _similarities(space, profile.down, rows)
    disliked: list[tuple[int, float] | None] = [None] * count
    if profile.down:
        worst = np.argmax(down, axis=1)
        disliked = [
            (int(w), float(down[i, w])) if down[i, w] > 0 else None
            for i, w in enumerate(worst.tolist())
        ]
    if seed_rows is None:
        empty: list[Any] = [[] for _ in range(count)]
        zeros = [0.0] * count
        return _Matrices(zeros, [0] * count, [1.0] * count, empty, empty, empty, empty, disliked)
    groups = seed_groups(seed_rows)
    cats = np.asarray(
        (
            space.category_vectors([c.categories for c in candidates])
            @ space.category_vectors([s.categories for s in profile.seeds]).T
        ).todense(),
        dtype=np.float64,
    )
    lifts = np.stack([1 + CATEGORY_LIFT * cats[:, g].mean(axis=1) for g in groups], axis=1)
    means = np.stack([sims[:, g].mean(axis=1) for g in groups], axis=1) * lifts
    best = np.argmax(means, axis=1)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :_EXPLAINED]
    terms = space.shared_terms(rows, seed_rows[order[:, 0]])
    held = [
        {
            code
            for i in g
            for code in profile.seeds[i].categories
            if space.category_share(code) <= _TELLING_SHARE
        }
        for g in groups
    ]
    return _Matrices(
        value=means[np.arange(count), best].tolist(),
        group=[len(groups[g]) for g in best.tolist()],
        lift=lifts[np.arange(count), best].tolist(),
        shared=[
            tuple(code for code in c.categories if code in held[g])
            for c, g in zip(candidates, best.tolist(), strict=True)
        ],
        nearest=order.tolist(),
        nearest_sims=np.take_along_axis(sims, order, axis=1).tolist(),
        terms=terms,
        disliked=disliked,
    )


def _evidence(profile: Profile, index: int, m: _Matrices) -> Evidence:
    nearest = m.nearest[index]
    close = bool(nearest) and m.nearest_sims[index][0] > 0
    disliked = m.disliked[index]
    return Evidence(
        nearest_title=profile.seeds[nearest[0]].title if close else None,
        similarity=m.nearest_sims[index][0] if close else 0.0,
        group=(m.group[index], m.value[index]) if close and m.group[index] > 1 else None,
        categories=(m.shared[index], m.lift[index]) if close and m.shared[index] else None,
        terms=tuple(m.terms[index]) if close else (),
        disliked=(profile.down[disliked[0]].title, disliked[1]) if disliked else None,
    )


def score(
    space: TermSpace, profile: Profile, candidates: Sequence[Candidate], rows: Any = None
) -> list[Scored]:
    """Score ``candidates`` for ``profile``, best first; ties go to the lower arXiv id.

    ``rows`` are the candidates' vectors when the caller already has them (several topics
    scoring the same new papers transform them once)."""
    if not candidates:
        return []
    if rows is None:
        rows = space.vectors([c.text for c in candidates])
    m = _seed_matrices(space, profile, candidates, rows)
    probabilities = _classifier(space, profile, rows)
    wanted = frozenset(normalise_name(name) for name in profile.follow)
    results: list[Scored] = []
    for index, candidate in enumerate(candidates):
        evidence = _evidence(profile, index, m)
        value = m.value[index]
        if probabilities is not None:
            value = (value + float(probabilities[index])) / 2
            evidence = replace(evidence, classifier=(float(probabilities[index]), profile.labels))
        if evidence.disliked is not None:
            value -= DISLIKE_WEIGHT * evidence.disliked[1]
        followed = _followed(wanted, candidate.authors)
        if followed:
            value += FOLLOW_BONUS
            evidence = replace(evidence, followed=followed)
        keys = [profile.seeds[i].key for i in m.nearest[index]]
        ranked = tuple(zip(keys, m.nearest_sims[index], strict=True))
        results.append(Scored(candidate.arxiv_id, round(value, 4), evidence, ranked))
    results.sort(key=lambda s: (-s.score, s.arxiv_id))
    return results
