"""Seed-based, explainable ranking per topic: seeds, features, scorer, reasons, the rank step.

This module stays light (no scikit-learn import): the pipeline asks it whether ranking is wanted
before loading :mod:`arxiv_radar.rank.run`, which needs the ``rank`` extra.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from arxiv_radar.config import RadarConfig, Workspace
from arxiv_radar.errors import UserError

__all__ = ["load_ranker", "ranked_order", "ranking_configured"]


def ranking_configured(workspace: Workspace) -> bool:
    """Whether any topic has something to rank by: seeds, a seeds file, follows or feedback."""
    config = workspace.config
    if config.follow or workspace.resolve(config.rank.feedback).exists():
        return True
    return any(t.seeds or t.seeds_file or t.zotero or t.follow for t in config.topics)


def ranked_order(config: RadarConfig, topic: str) -> bool:
    """Whether ``topic`` is listed by relevance (within each day) rather than by date."""
    chosen = next(t for t in config.topics if t.name == topic)
    if chosen.order is not None:
        return chosen.order == "relevance"
    return bool(chosen.seeds or chosen.seeds_file or chosen.zotero)


def load_ranker() -> ModuleType:
    """The rank step's module; a missing ``rank`` extra is a user error with the fix."""
    try:
        return import_module("arxiv_radar.rank.run")
    except ImportError as err:
        raise UserError(
            f"ranking needs scikit-learn, bibtexparser and rispy ({err.name} is missing)",
            fix="pip install 'arxiv-radar[rank]', or remove seeds, follow and feedback.yml",
        ) from None
