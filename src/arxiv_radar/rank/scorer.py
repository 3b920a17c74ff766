"""The score: the maximum similarity to a topic's seeds, plus followed authors, minus dislikes.

A maximum, not a mean: a reader with three interests has three clusters of seeds, and a paper
close to one of them is relevant even though it is far from the other two. A mean over all seeds
(what zotero-arxiv-daily does over a whole library) dilutes each interest into a blur.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from arxiv_radar.rank.features import TermSpace
from arxiv_radar.rank.reasons import Evidence

__all__ = ["FOLLOW_BONUS", "Candidate", "Profile", "Scored", "Seed", "normalise_name", "score"]

FOLLOW_BONUS = 0.3  # a followed author lifts a paper about as much as a fairly close seed
DISLIKE_WEIGHT = 0.5  # how much likeness to a down-voted paper costs


@dataclass(frozen=True)
class Seed:
    """A paper the reader wants more of (or, among ``Profile.down``, less of)."""

    key: str  # arXiv id, or "file:<title>" for an export entry without one
    title: str
    text: str


@dataclass(frozen=True)
class Candidate:
    arxiv_id: str
    title: str
    text: str
    authors: tuple[str, ...]


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


def _followed(profile: Profile, authors: Sequence[str]) -> tuple[str, ...]:
    """The paper's author names (as written on the paper) that a followed name matches."""
    wanted = {normalise_name(name) for name in profile.follow}
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


@dataclass(frozen=True)
class _Matrices:
    rows: Any  # candidates
    sims: Any  # candidates x seeds
    seed_rows: Any
    down: Any  # candidates x down-voted papers


def _evidence(
    space: TermSpace, profile: Profile, index: int, m: _Matrices
) -> tuple[Evidence, tuple[tuple[str, float], ...]]:
    sims, down = m.sims, m.down
    nearest_title: str | None = None
    terms: tuple[str, ...] = ()
    ranked: tuple[tuple[str, float], ...] = ()
    similarity = 0.0
    if profile.seeds:
        order = np.argsort(-sims[index], kind="stable")
        best = profile.seeds[int(order[0])]
        similarity = float(sims[index, order[0]])
        ranked = tuple((profile.seeds[int(i)].key, round(float(sims[index, i]), 4)) for i in order)
        if similarity > 0:
            nearest_title = best.title
            terms = tuple(space.shared_terms(m.rows[index], m.seed_rows[int(order[0])]))
    disliked = None
    if profile.down and float(down[index].max()) > 0:
        worst = int(np.argmax(down[index]))
        disliked = (profile.down[worst].title, float(down[index, worst]))
    evidence = Evidence(nearest_title, similarity, terms=terms, disliked=disliked)
    return evidence, ranked


def score(space: TermSpace, profile: Profile, candidates: Sequence[Candidate]) -> list[Scored]:
    """Score ``candidates`` for ``profile``, best first; ties go to the lower arXiv id."""
    if not candidates:
        return []
    rows = space.vectors([c.text for c in candidates])
    sims, seed_rows = _similarities(space, profile.seeds, rows)
    down, _ = _similarities(space, profile.down, rows)
    matrices = _Matrices(rows, sims, seed_rows, down)
    probabilities = _classifier(space, profile, rows)
    results: list[Scored] = []
    for index, candidate in enumerate(candidates):
        evidence, ranked = _evidence(space, profile, index, matrices)
        value = evidence.similarity
        if probabilities is not None:
            value = (value + float(probabilities[index])) / 2
            labels = profile.labels
            evidence = replace(evidence, classifier=(float(probabilities[index]), labels))
        if evidence.disliked is not None:
            value -= DISLIKE_WEIGHT * evidence.disliked[1]
        followed = _followed(profile, candidate.authors)
        if followed:
            value += FOLLOW_BONUS
            evidence = replace(evidence, followed=followed)
        results.append(Scored(candidate.arxiv_id, round(value, 4), evidence, ranked))
    results.sort(key=lambda s: (-s.score, s.arxiv_id))
    return results
