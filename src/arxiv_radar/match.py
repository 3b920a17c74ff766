"""Which topics a paper belongs to, decided locally with the user's own query language.

Matching locally (rather than asking arXiv one OR-query per topic) is what lets a daily run cost one
listing request plus the metadata of the papers that matched, and keeps the answer identical whether
a paper came from the listing, an API search or a gap fill.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from arxiv_radar import categories as taxonomy
from arxiv_radar.config import TopicConfig
from arxiv_radar.paper import Paper
from arxiv_radar.query import Document, Query, any_phrase, exclude, parse

__all__ = ["Topic", "compile_topics", "match_all"]


@dataclass(frozen=True)
class Topic:
    """A compiled topic: its query (with exclusions folded in) and its category restriction."""

    name: str
    query: Query
    categories: frozenset[str]

    @property
    def searches_api(self) -> bool:
        """Topics without categories can match anywhere on arXiv, so they get their own search."""
        return not self.categories

    def in_categories(self, paper_categories: Iterable[str]) -> bool:
        if not self.categories:
            return True
        return any(
            code in self.categories or code.split(".", 1)[0] in self.categories
            for code in paper_categories
        )

    def matches(self, paper: Paper) -> bool:
        return self.matches_document(Document(paper))

    def matches_document(self, document: Document) -> bool:
        """Match a pre-tokenised paper: many topics share one Document per paper."""
        return self.in_categories(document.paper.categories) and self.query.matches_document(
            document
        )

    def api_query(self) -> str:
        """The arXiv ``search_query`` equivalent of this topic."""
        return self.query.to_api()


def compile_topic(config: TopicConfig) -> Topic:
    query = parse(config.query) if config.query is not None else any_phrase(config.keywords or [])
    if config.exclude:
        query = exclude(query, any_phrase(config.exclude))
    categories = frozenset(c for c in config.categories if taxonomy.is_known(c))
    return Topic(name=config.name, query=query, categories=categories)


def compile_topics(configs: Sequence[TopicConfig]) -> list[Topic]:
    return [compile_topic(config) for config in configs]


def match_all(topics: Sequence[Topic], papers: Iterable[Paper]) -> dict[str, list[Paper]]:
    """Topic name -> the papers it matches, in input order; every topic has a key."""
    result: dict[str, list[Paper]] = {topic.name: [] for topic in topics}
    for paper in papers:
        document = Document(paper)
        for topic in topics:
            if topic.matches_document(document):
                result[topic.name].append(paper)
    return result
