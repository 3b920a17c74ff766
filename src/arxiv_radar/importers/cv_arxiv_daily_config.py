"""A cv-arxiv-daily ``config.yaml`` translated into a commented ``arxiv-radar.yml``.

The file is rendered from a template, not dumped, so the user gets the comments that say what
each of their old settings became. Topic queries keep the exact meaning cv-arxiv-daily gave them:
its ``daily_arxiv.py`` sent arXiv ``filter1 OR "filter two"`` (a filter with a space quoted as a
phrase, a bare term searched in every field), which is valid arxiv-radar query syntax with the
same meaning, so the query is that string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from arxiv_radar.errors import QuerySyntaxError, UserError
from arxiv_radar.query import parse

__all__ = ["ConfigTranslation", "script_query", "title_abstract_query", "translate_config"]

# Keys cv-arxiv-daily reads, or ships without reading, and what becomes of each here.
_DROPPED: Mapping[str, str] = {
    "max_results": "dropped: there is no cap now (see the comment above `topics`)",
    "base_url": "ignored (never read by daily_arxiv.py); code links come from code_links.finders",
    "show_authors": "ignored (never read by daily_arxiv.py); the authors column is kept",
    "show_links": "ignored (never read by daily_arxiv.py); the code column is kept",
    "show_badge": "ignored: the README shows the shields.io badges whenever repository is set",
    "publish_readme": "the README is always written (output.readme)",
    "publish_wechat": "no WeChat page; the email: and chat: digests replace it",
    "json_readme_path": "imported into the store; arxiv-radar writes its own exports in docs_dir",
    "json_gitpage_path": "imported into the store; this file is no longer updated",
    "json_wechat_path": "imported into the store if present; no longer updated",
    "md_wechat_path": "no WeChat page; the email: and chat: digests replace it",
}
_USED = frozenset({"keywords", "user_name", "repo_name", "md_readme_path", "md_gitpage_path"})
_USED_PUBLISH = "publish_gitpage"
_REPOSITORY = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class TopicQuery:
    name: str
    filters: tuple[str, ...]
    query: str  # the script's own query: every field
    title_abstract: str  # the commented alternative


@dataclass(frozen=True)
class ConfigTranslation:
    """What the old config becomes: topics, kept paths, and every key with no equivalent."""

    source: str
    repository: str
    topics: tuple[TopicQuery, ...]
    readme: str
    docs_dir: str
    gitpage: str
    site_enabled: bool
    max_results: str
    dropped: tuple[tuple[str, str], ...]

    def render(self, categories: Sequence[str]) -> str:
        """The commented arxiv-radar.yml; ``categories`` come from the imported papers."""
        env = Environment(
            loader=PackageLoader("arxiv_radar", "templates"),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            # YAML, not HTML: nothing is escaped; values are quoted by the `q` filter.
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        )
        env.filters["q"] = _yaml_quote
        template = env.get_template("cv-arxiv-daily.yml.j2")
        return template.render(
            source=self.source,
            repository=self.repository,
            categories=list(categories),
            max_results=self.max_results,
            topics=self.topics,
            readme=self.readme,
            docs_dir=self.docs_dir,
            gitpage=self.gitpage,
            site_enabled="true" if self.site_enabled else "false",
            dropped=self.dropped,
        )


def _yaml_quote(value: object) -> str:
    """A single-quoted YAML scalar: no character inside it is special except the quote."""
    return "'" + str(value).replace("'", "''") + "'"


def script_query(filters: Sequence[str]) -> str:
    """cv-arxiv-daily's ``parse_filters``: a filter with a space becomes a quoted phrase."""
    return " OR ".join(f'"{f}"' if len(f.split()) > 1 else f for f in filters)


def title_abstract_query(filters: Sequence[str]) -> str:
    """The same filters searched in titles and abstracts only (``ti:x OR abs:x``)."""
    terms = [f'"{f}"' if len(f.split()) > 1 else f for f in filters]
    return " OR ".join(f"{field}:{term}" for term in terms for field in ("ti", "abs"))


def translate_config(settings: Mapping[str, Any], source: str) -> ConfigTranslation:
    """Translate a parsed config.yaml; a topic whose query cannot work is a UserError."""
    topics = tuple(_topic(name, spec, source) for name, spec in settings["keywords"].items())
    owner, name = settings.get("user_name"), settings.get("repo_name")
    repository = f"{owner}/{name}" if owner and name else ""
    gitpage = _path(settings.get("md_gitpage_path"), "docs/index.md")
    return ConfigTranslation(
        source=source,
        repository=repository if _REPOSITORY.match(repository) else "",
        topics=topics,
        readme=_path(settings.get("md_readme_path"), "README.md"),
        docs_dir=gitpage.rpartition("/")[0] or ".",
        gitpage=gitpage,
        site_enabled=settings.get(_USED_PUBLISH) is not False,
        max_results=str(settings.get("max_results", "not set")),
        dropped=_dropped(settings),
    )


def _path(value: object, default: str) -> str:
    text = str(value).strip() if value else default
    return text.removeprefix("./") or default


def _dropped(settings: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    notes: list[tuple[str, str]] = []
    for key in settings:
        if key in _USED or key == _USED_PUBLISH:
            continue
        notes.append((str(key), _DROPPED.get(str(key), "unknown to daily_arxiv.py; ignored")))
    return tuple(notes)


def _topic(name: object, spec: object, source: str) -> TopicQuery:
    filters = spec.get("filters") if isinstance(spec, dict) else None
    if (
        not isinstance(filters, list)
        or not filters
        or not all(isinstance(f, str) and f.strip() for f in filters)
    ):
        raise UserError(
            f"{source}: keywords.{name}: needs a non-empty `filters:` list of phrases",
            fix=f'write it as {name}: {{filters: ["a phrase", "word"]}}',
        )
    kept = tuple(f.strip() for f in filters)
    query = script_query(kept)
    try:
        parse(query)
        parse(title_abstract_query(kept))
    except QuerySyntaxError as err:
        raise UserError(
            f"{source}: keywords.{name}: the filters make the query {query!r}, "
            f"which arxiv-radar cannot read: {err.message}",
            fix="remove stray quotes or parentheses from that filter",
        ) from None
    return TopicQuery(str(name), kept, query, title_abstract_query(kept))
