"""Finding a paper's code: finders behind one Protocol, and when to look again.

Finders run in order (``text``, then ``huggingface``, then ``paperswithcode``) and stop at the
first one that yields a repository; each answer records its source and time so the page can say
where a link came from. Most papers get their code days after the announcement, so a paper
without code is looked up again on a doubling schedule (:func:`next_check`) and then left alone:
a month of runs costs a bounded number of requests per *new* paper, never per stored paper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from arxiv_radar.enrich._wire import HttpClient, get_json_or_none
from arxiv_radar.enrich.links import LinkFindings, find_links_in_text, normalise_repo_url
from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Paper

__all__ = [
    "CODE_FINDERS",
    "RECHECK_DAYS",
    "CodeFinder",
    "CodeLinkSettings",
    "CodeResult",
    "HuggingFaceFinder",
    "LinkFindings",
    "NotFound",
    "PapersWithCodeFinder",
    "TextFinder",
    "find_links_in_text",
    "make_finders",
    "next_check",
]

RECHECK_DAYS = (1, 2, 4, 8, 16, 32)
# Daily runs start a few minutes apart; without slack a check due "1 day after first seen" would
# slip a whole day whenever today's run starts a little earlier than yesterday's.
SCHEDULE_SLACK = timedelta(hours=2)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CodeResult:
    """What one finder found: a repository and/or a project page, with provenance."""

    source: str
    at: datetime
    code_url: str | None = None
    project_url: str | None = None
    stars: int | None = None


@dataclass(frozen=True)
class NotFound:
    """The finder answered and knows of no code (Hugging Face's 404: not indexed yet)."""

    source: str
    at: datetime


class CodeFinder(Protocol):
    """One source of code links; raises FetchError when it could not answer at all."""

    name: str

    def find(self, paper: Paper) -> CodeResult | NotFound: ...


@dataclass(frozen=True)
class CodeLinkSettings:
    """Which finders run, where they live, and how hard they may be pushed."""

    finders: tuple[str, ...] = ("text", "huggingface", "paperswithcode")
    hf_base: str = "https://huggingface.co"
    pwc_base: str = "https://paperswithcode.co/api/v1"
    github_api_base: str = "https://api.github.com"
    workers: int = 4


def next_check(first_seen: datetime, attempts: int) -> datetime | None:
    """When a paper still without code is looked up again after ``attempts`` checks.

    ``attempts`` counts completed checks (0 = never checked, due at once). After the first
    check the paper is due 1, 2, 4, 8, 16 and 32 days after it was first seen, then never.
    """
    if attempts <= 0:
        return first_seen
    if attempts > len(RECHECK_DAYS):
        return None
    return first_seen + timedelta(days=RECHECK_DAYS[attempts - 1]) - SCHEDULE_SLACK


def _result_or_not_found(
    source: str, at: datetime, code: str | None, project: str | None, stars: int | None = None
) -> CodeResult | NotFound:
    if code is None and project is None:
        return NotFound(source=source, at=at)
    return CodeResult(source=source, at=at, code_url=code, project_url=project, stars=stars)


class TextFinder:
    """Links the authors wrote in the abstract or the comment: free, so it always runs first."""

    name = "text"

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def find(self, paper: Paper) -> CodeResult | NotFound:
        links = find_links_in_text(paper.abstract, paper.comment)
        code = links.code[0] if links.code else None
        project = links.project[0] if links.project else None
        return _result_or_not_found(self.name, self._clock(), code, project)


def _text_field(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _int_field(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class HuggingFaceFinder:
    """``GET {base}/api/papers/{id}``: ``githubRepo``, ``githubStars``, ``projectPage``."""

    name = "huggingface"

    def __init__(self, client: HttpClient, base_url: str, clock: Clock = utc_now) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._clock = clock

    def find(self, paper: Paper) -> CodeResult | NotFound:
        data = get_json_or_none(self._client, f"{self._base}/api/papers/{paper.arxiv_id}")
        if data is None:
            return NotFound(source=self.name, at=self._clock())
        repo = _text_field(data, "githubRepo")
        code = (normalise_repo_url(repo) or repo) if repo else None
        stars = _int_field(data, "githubStars") if code else None
        return _result_or_not_found(
            self.name, self._clock(), code, _text_field(data, "projectPage"), stars
        )


class PapersWithCodeFinder:
    """``GET {base}/papers/{id}?include_resources=true``; an official repository wins."""

    name = "paperswithcode"

    def __init__(self, client: HttpClient, base_url: str, clock: Clock = utc_now) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._clock = clock

    def find(self, paper: Paper) -> CodeResult | NotFound:
        data = get_json_or_none(
            self._client,
            f"{self._base}/papers/{paper.arxiv_id}",
            params={"include_resources": "true"},
        )
        repos = data.get("repositories") if data is not None else None
        best = _best_repository(repos if isinstance(repos, list) else [])
        if best is None:
            return NotFound(source=self.name, at=self._clock())
        url = _text_field(best, "url") or ""
        return CodeResult(
            source=self.name,
            at=self._clock(),
            code_url=normalise_repo_url(url) or url,
            stars=_int_field(best, "stars"),
        )


def _best_repository(repos: list[Any]) -> Mapping[str, Any] | None:
    usable = [r for r in repos if isinstance(r, dict) and _text_field(r, "url")]
    official = [r for r in usable if r.get("is_official") is True]
    candidates = official or usable
    return candidates[0] if candidates else None


ClientFor = Callable[[str], HttpClient]
"""Returns the shared client of a host family ("huggingface", "paperswithcode", "github")."""

FinderFactory = Callable[[CodeLinkSettings, ClientFor, Clock], CodeFinder]

CODE_FINDERS: dict[str, FinderFactory] = {
    "text": lambda _settings, _clients, clock: TextFinder(clock),
    "huggingface": lambda s, clients, clock: HuggingFaceFinder(
        clients("huggingface"), s.hf_base, clock
    ),
    "paperswithcode": lambda s, clients, clock: PapersWithCodeFinder(
        clients("paperswithcode"), s.pwc_base, clock
    ),
}


def make_finders(
    settings: CodeLinkSettings, clients: ClientFor, clock: Clock = utc_now
) -> list[CodeFinder]:
    """The configured finders, in order; an unknown name is a config mistake."""
    finders = []
    for name in settings.finders:
        factory = CODE_FINDERS.get(name)
        if factory is None:
            raise ConfigError(
                f"enrich.code.finders: unknown finder {name!r}",
                fix=f"use some of: {', '.join(sorted(CODE_FINDERS))}",
            )
        finders.append(factory(settings, clients, clock))
    return finders
