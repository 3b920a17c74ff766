"""Why a paper was ranked where it is, in at most 200 characters, from what made its score."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_REASON", "Evidence", "reason"]

MAX_REASON = 200
_MIN_TITLE = 12  # a nearest-seed title shorter than this says nothing; drop it instead


@dataclass(frozen=True)
class Evidence:
    """The parts of a score worth telling a reader, each already measured."""

    nearest_title: str | None
    similarity: float
    followed: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    group: tuple[int, float] | None = None  # (seeds in the nearest interest, the group score)
    categories: tuple[tuple[str, ...], float] | None = None  # (shared with the group, lift)
    classifier: tuple[float, int] | None = None  # (probability, labels it was trained on)
    disliked: tuple[str, float] | None = None  # (title of the nearest down-voted paper, cosine)


def _shorten(text: str, budget: int) -> str:
    return text if len(text) <= budget else text[: max(budget - 1, 0)].rstrip() + "…"


def _tail(evidence: Evidence) -> list[str]:
    """The parts after the nearest seed, most telling first (the last ones go when space is
    short)."""
    parts: list[str] = []
    if evidence.followed:
        parts.append("followed author " + ", ".join(evidence.followed))
    if evidence.classifier is not None:
        probability, labels = evidence.classifier
        parts.append(f"classifier on {labels} labels {probability:.2f}")
    if evidence.disliked is not None:
        title, similarity = evidence.disliked
        parts.append(f'like down-voted "{_shorten(title, 40)}" ({similarity:.2f})')
    if evidence.group is not None:
        parts.append(f"{evidence.group[0]} seeds like it ({evidence.group[1]:.2f})")
    if evidence.categories is not None:
        codes, lift = evidence.categories
        parts.append(f"{', '.join(codes[:3])} like the seeds (x{lift:.2f})")
    if evidence.terms:
        parts.append("shared terms " + ", ".join(evidence.terms))
    return parts


def _with_seed(evidence: Evidence, title: str, tail: list[str]) -> str | None:
    """The reason led by the nearest seed, or None when ``tail`` leaves its title no room."""
    fixed = f'nearest seed "" ({evidence.similarity:.2f})'
    room = MAX_REASON - len(fixed) - sum(len(part) + 2 for part in tail)
    if room < _MIN_TITLE:
        return None
    head = f'nearest seed "{_shorten(title, min(room, 60))}" ({evidence.similarity:.2f})'
    return "; ".join([head, *tail])


def reason(evidence: Evidence) -> str:
    """One line; the nearest seed always shows, the least telling parts go first if needed."""
    tail = _tail(evidence)
    title = evidence.nearest_title
    if title is None:
        return _shorten("; ".join(tail), MAX_REASON)
    while True:
        text = _with_seed(evidence, title, tail)
        if text is not None or not tail:
            return text if text is not None else _shorten(title, MAX_REASON)
        tail = tail[:-1]
