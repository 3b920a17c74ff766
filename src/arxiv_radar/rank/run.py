"""The rank step: resolve seeds (fetching unknown seed metadata once), score, store the scores.

Network is used for one thing only: metadata of seed and feedback ids the store does not hold yet,
fetched in batches through the arXiv API and kept. Scoring itself never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arxiv_radar.config import TopicConfig, Workspace
from arxiv_radar.errors import UserError
from arxiv_radar.http import PoliteClient
from arxiv_radar.paper import Entry, Paper, split_version
from arxiv_radar.rank.features import TermSpace, document_text
from arxiv_radar.rank.feedback import Votes, read_feedback
from arxiv_radar.rank.reasons import reason
from arxiv_radar.rank.scorer import Candidate, Profile, Scored, Seed, score
from arxiv_radar.rank.seeds import FileSeed, read_seeds_file
from arxiv_radar.rank.zotero import read_collection
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import RankedRow, Store

__all__ = [
    "CORPUS_LIMIT",
    "RANKER",
    "TopicInputs",
    "explain",
    "fit_space",
    "gather_inputs",
    "rank_store",
    "topic_profile",
]

RANKER = "tfidf-max-1"  # part of every score's basis: a new scorer re-scores everything once
CORPUS_LIMIT = 10_000  # latest papers the term weights are fitted on
OpenAPI = Callable[[], AbstractContextManager[ArxivAPI]]
OpenClient = Callable[[], AbstractContextManager[PoliteClient]]


@dataclass(frozen=True)
class TopicInputs:
    """Everything a topic's ranking comes from, read from config and files (no network)."""

    topic: str
    seed_ids: tuple[str, ...]
    file_seeds: tuple[FileSeed, ...]
    follow: tuple[str, ...]
    votes: Votes

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id whose metadata is needed: seeds, file seeds with ids, and votes."""
        from_file = tuple(s.arxiv_id for s in self.file_seeds if s.arxiv_id)
        return tuple(dict.fromkeys((*self.seed_ids, *from_file, *self.votes.up, *self.votes.down)))


def _zotero_seeds(
    workspace: Workspace, store: Store, topic: TopicConfig, zotero: OpenClient | None
) -> tuple[FileSeed, ...]:
    """The topic's Zotero collection: read when a client is given (the rank step) and kept in
    the store, so `rank --explain` scores from the same seeds without the network."""
    if topic.zotero is None:
        return ()
    key = f"rank.zotero:{topic.name}:{topic.zotero.library}/{topic.zotero.collection}"
    if zotero is not None:
        base = workspace.config.endpoints.zotero_url
        with zotero() as client:
            seeds = read_collection(client, base, topic.zotero, topic=topic.name, env=os.environ)
        store.set_meta(key, json.dumps([[s.arxiv_id, s.title, s.abstract] for s in seeds]))
        return tuple(seeds)
    raw = store.get_meta(key)
    if raw is None:
        raise UserError(
            f"topic {topic.name!r}: its Zotero collection has not been read yet",
            fix=f"run `arxiv-radar rank {topic.name!r}`",
        )
    return tuple(FileSeed(*row) for row in json.loads(raw))


def _topic_inputs(
    workspace: Workspace, store: Store, topic: TopicConfig, votes: Votes, zotero: OpenClient | None
) -> TopicInputs:
    file_seeds = _zotero_seeds(workspace, store, topic, zotero)
    if topic.seeds_file:
        path = workspace.resolve(topic.seeds_file)
        file_seeds += tuple(read_seeds_file(path, topic=topic.name))
    follow = tuple(dict.fromkeys((*workspace.config.follow, *topic.follow)))
    ids = tuple(dict.fromkeys(split_version(raw)[0] for raw in topic.seeds))
    return TopicInputs(topic.name, ids, file_seeds, follow, votes)


def gather_inputs(
    workspace: Workspace, store: Store, zotero: OpenClient | None = None
) -> list[TopicInputs]:
    """The inputs of every topic that has something to rank by (seeds, follows or votes);
    Zotero collections are read with ``zotero`` clients, else taken from the store."""
    config = workspace.config
    names = [t.name for t in config.topics]
    feedback = read_feedback(workspace.resolve(config.rank.feedback), names)
    gathered = [
        _topic_inputs(workspace, store, t, feedback.get(t.name, Votes()), zotero)
        for t in config.topics
    ]
    return [g for g in gathered if g.ids or g.file_seeds or g.follow]


def _missing(store: Store, inputs: Sequence[TopicInputs]) -> list[str]:
    wanted = list(dict.fromkeys(i for g in inputs for i in g.ids))
    known = store.seed_papers(wanted)
    return [i for i in wanted if i not in known]


def ensure_seed_papers(
    store: Store, inputs: Sequence[TopicInputs], open_api: OpenAPI | None, *, now: datetime
) -> int:
    """Fetch and keep metadata of ids not stored yet; an id arXiv does not know is an error
    naming its topic. Returns how many were fetched."""
    missing = _missing(store, inputs)
    if not missing:
        return 0
    if open_api is None:
        raise UserError(f"seed metadata of {', '.join(missing)} is not stored", fix="run `rank`")
    with open_api() as api:
        papers = api.fetch_ids(missing)
    store.record_seed_papers(papers, at=now)
    unknown = set(missing) - {p.arxiv_id for p in papers}
    for group in inputs:
        for arxiv_id in group.ids:
            if arxiv_id in unknown:
                raise UserError(
                    f"topic {group.topic!r}: seed {arxiv_id} is not on arXiv",
                    fix="check the id in topics[].seeds, the seeds file or feedback.yml",
                )
    return len(papers)


def _seed(paper: Paper) -> Seed:
    text = document_text(paper.title, paper.abstract)
    return Seed(paper.arxiv_id, paper.title, text, paper.categories)


def topic_profile(inputs: TopicInputs, papers: Mapping[str, Paper], min_labels: int) -> Profile:
    """The topic's seeds (config ids, file entries, up-votes), follows and down-votes."""
    seeds = [_seed(papers[i]) for i in inputs.seed_ids]
    for entry in inputs.file_seeds:
        if entry.arxiv_id:
            seeds.append(_seed(papers[entry.arxiv_id]))
        else:
            text = document_text(entry.title, entry.abstract)
            seeds.append(Seed(f"file:{entry.title}", entry.title, text))
    seeds += [_seed(papers[i]) for i in inputs.votes.up]
    unique = tuple({s.key: s for s in seeds if s.key not in inputs.votes.down}.values())
    return Profile(
        topic=inputs.topic,
        seeds=unique,
        follow=inputs.follow,
        down=tuple(_seed(papers[i]) for i in inputs.votes.down),
        classifier_min_labels=min_labels,
        labels=inputs.votes.labels,
    )


def basis(profile: Profile) -> str:
    """A fingerprint of everything the topic's scores depend on besides the paper itself."""
    data = {
        "ranker": RANKER,
        "seeds": [[s.key, s.text] for s in profile.seeds],
        "down": [s.key for s in profile.down],
        "follow": list(profile.follow),
        "min_labels": profile.classifier_min_labels,
        "labels": profile.labels,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def fit_space(store: Store, profiles: Iterable[Profile]) -> TermSpace:
    """Term weights from the store's latest papers and the seeds (no network)."""
    corpus = store.rank_corpus(CORPUS_LIMIT)
    seeds = [s for p in profiles for s in (*p.seeds, *p.down)]
    texts = [document_text(title, abstract) for _, title, abstract, _ in corpus]
    categories = [codes for *_, codes in corpus]
    return TermSpace.fit(
        texts + [s.text for s in seeds], categories + [s.categories for s in seeds]
    )


def candidate(entry: Entry) -> Candidate:
    paper = entry.paper
    text = document_text(paper.title, paper.abstract)
    return Candidate(paper.arxiv_id, paper.title, text, paper.authors, paper.categories)


def profiles_for(
    workspace: Workspace,
    store: Store,
    open_api: OpenAPI | None,
    *,
    now: datetime,
    zotero: OpenClient | None = None,
) -> tuple[list[Profile], int]:
    """Profiles of every ranked topic, and how many seed records had to be fetched."""
    inputs = gather_inputs(workspace, store, zotero)
    fetched = ensure_seed_papers(store, inputs, open_api, now=now)
    papers = store.seed_papers([i for g in inputs for i in g.ids])
    min_labels = workspace.config.rank.classifier_min_labels
    return [topic_profile(g, papers, min_labels) for g in inputs], fetched


def _due(store: Store, profile: Profile, fingerprint: str) -> list[Candidate]:
    stored = store.topic_scores(profile.topic)
    entries = store.topic_entries(profile.topic)
    return [
        candidate(e)
        for e in entries
        if (row := stored.get(e.paper.arxiv_id)) is None or row.basis != fingerprint
    ]


def rank_store(
    workspace: Workspace,
    store: Store,
    open_api: OpenAPI | None,
    *,
    now: datetime,
    zotero: OpenClient | None = None,
) -> dict[str, Any]:
    """The pipeline's rank step: score every topic paper whose score is missing or stale."""
    profiles, fetched = profiles_for(workspace, store, open_api, now=now, zotero=zotero)
    cleared = store.clear_scores([p.topic for p in profiles])
    due = {p.topic: (basis(p), _due(store, p, basis(p))) for p in profiles}
    scored: dict[str, int] = {}
    union = {c.arxiv_id: c for _, candidates in due.values() for c in candidates}
    if union:
        space = fit_space(store, profiles)
        index = {arxiv_id: i for i, arxiv_id in enumerate(union)}
        rows = space.vectors([c.text for c in union.values()])  # each paper once for all topics
        for profile in profiles:
            fingerprint, candidates = due[profile.topic]
            mine = rows[[index[c.arxiv_id] for c in candidates]]
            results = score(space, profile, candidates, mine)
            store.record_scores(profile.topic, _rows(results, fingerprint), at=now)
            scored[profile.topic] = len(results)
    return {"seeds_fetched": fetched, "scored": scored, "cleared": cleared}


def _rows(results: Iterable[Scored], fingerprint: str) -> list[RankedRow]:
    return [RankedRow(r.arxiv_id, r.score, reason(r.evidence), fingerprint) for r in results]


def _lines(profile: Profile, scored: Scored) -> list[str]:
    titles = {s.key: s.title for s in profile.seeds}
    evidence = scored.evidence
    lines = [f"score {scored.score:.4f} = max seed similarity {evidence.similarity:.4f}"]
    if evidence.classifier is not None:
        lines.append(f"  averaged with classifier {evidence.classifier[0]:.4f}")
    if evidence.disliked is not None:
        lines.append(
            f'  minus half of {evidence.disliked[1]:.4f} (down-voted "{evidence.disliked[0]}")'
        )
    if evidence.followed:
        lines.append(f"  plus followed author(s): {', '.join(evidence.followed)}")
    lines += [f"seed {key} {sim:.4f} {titles[key]}" for key, sim in scored.nearest[:5]]
    if evidence.terms:
        lines.append("shared terms with the nearest seed: " + ", ".join(evidence.terms))
    return lines


def explain(workspace: Workspace, store: Store, topic: str, entry: Entry) -> list[str]:
    """One paper's score recomputed from the stored seeds (no network) and taken apart."""
    profiles, _ = profiles_for(workspace, store, None, now=datetime.now().astimezone())
    profile = next((p for p in profiles if p.topic == topic), None)
    if profile is None:
        return ["this topic has no seeds, followed authors or feedback: it is listed by date"]
    return _lines(profile, score(fit_space(store, profiles), profile, [candidate(entry)])[0])
