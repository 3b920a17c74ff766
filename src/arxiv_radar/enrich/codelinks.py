"""Finding a paper's code: finders behind one Protocol, and when to look again.

The cost model (issue 3): a digest must pay per *new* paper, and less than cv-arxiv-daily's
one look-up per paper plus a weekly look-up of every paper still without code. So:

* ``text`` reads links the authors wrote: free, always first, and it settles ~1 paper in 10.
* ``huggingface-daily`` reads Hugging Face's daily papers list of the previous UTC day
  (``GET /api/daily_papers?date=YYYY-MM-DD``): one request per run answers for every paper
  on it. The list is curated (papers submitted to Daily Papers within 14 days of arXiv
  publication), so it is positive evidence only: a paper on it with ``githubRepo`` is
  settled, a paper absent from it tells nothing and keeps its schedule.
* ``huggingface`` (``GET /api/papers/{id}``) is asked on every scheduled check.
* ``paperswithcode`` is asked once, at the last check (:data:`PWC_FROM_AGE`). The revived
  catalogue imports Hugging Face's papers and, later, GitHub repositories that cite a paper;
  in a paper's first weeks it mostly repeats Hugging Face at the price of a second request
  per check, so it is the last look before a paper is given up.

A paper without code is checked at first sight and 3, 10 and 30 days after (:data:`RECHECK_DAYS`),
then never again: at most four Hugging Face requests per paper whatever the history, with the
gaps widening as the chance that code appears on a given day drops. Most papers that ever link
code do it on announcement day, most of the rest within a week or two; the check at 30 days
catches the slow ones while readers still look at the paper. ``benchmarks/bench_enrich.py``
prints the trade-off: about 0.8 of cv-arxiv-daily's requests in a first month (0.2 once it
has history), more links found within 30 days than the former 1-2-4-8-16-32 doubling (whose
last check came after day 30), at the price of links that appear on days 4-10 being shown a
few days later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

from arxiv_radar.enrich._wire import (
    JSON_ACCEPT,
    HttpClient,
    count_or_none,
    get_json_or_none,
    loads_json,
)
from arxiv_radar.enrich.links import LinkFindings, find_links_in_text, normalise_repo_url
from arxiv_radar.errors import ConfigError, SourceFormatError
from arxiv_radar.http import redact_url
from arxiv_radar.paper import TEXT_CAPS, Paper

__all__ = [
    "CODE_FINDERS",
    "DAILY_LIMIT",
    "PWC_FROM_AGE",
    "RECHECK_DAYS",
    "AnyFinder",
    "BatchCodeFinder",
    "CodeFinder",
    "CodeLinkSettings",
    "CodeResult",
    "DailyPapersFinder",
    "HuggingFaceFinder",
    "LinkFindings",
    "NotFound",
    "PapersWithCodeFinder",
    "TextFinder",
    "find_links_in_text",
    "finder_applies",
    "make_finders",
    "next_check",
    "schedule_position",
]

RECHECK_DAYS = (3, 10, 30)
PWC_FROM_AGE = timedelta(days=RECHECK_DAYS[-1])
# Daily runs start a few minutes apart; without slack a check due "1 day after first seen" would
# slip a whole day whenever today's run starts a little earlier than yesterday's.
SCHEDULE_SLACK = timedelta(hours=2)

logger = logging.getLogger(__name__)

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
    """One source of code links; raises FetchError when it could not answer at all.

    ``from_age`` says how old a paper must be before this finder is worth a request.
    """

    name: str
    from_age: timedelta

    def find(self, paper: Paper) -> CodeResult | NotFound: ...


@runtime_checkable
class BatchCodeFinder(Protocol):
    """A source that answers for many papers in one request; raises FetchError on failure.

    Its answer is positive evidence only: papers it does not name are not "without code".
    """

    name: str

    def find_many(self, now: datetime) -> dict[str, CodeResult]: ...


AnyFinder = CodeFinder | BatchCodeFinder


def finder_applies(finder: CodeFinder, first_seen: datetime, now: datetime) -> bool:
    """Whether a paper is old enough for ``finder`` (with the schedule's slack for cron)."""
    return now - first_seen >= finder.from_age - SCHEDULE_SLACK


@dataclass(frozen=True)
class CodeLinkSettings:
    """Which finders run, where they live, and how hard they may be pushed."""

    finders: tuple[str, ...] = ("text", "huggingface-daily", "huggingface", "paperswithcode")
    hf_base: str = "https://huggingface.co"
    pwc_base: str = "https://paperswithcode.co/api/v1"
    github_api_base: str = "https://api.github.com"
    workers: int = 4
    # Checks of papers past the re-check schedule (an imported history) made per run.
    backlog_per_run: int = 300


def next_check(first_seen: datetime, attempts: int) -> datetime | None:
    """When a paper still without code is looked up again after ``attempts`` checks.

    ``attempts`` counts completed checks (0 = never checked, due at once). After the first
    check the paper is due :data:`RECHECK_DAYS` (3, 10, 30) days after it was first seen,
    then never.
    """
    if attempts <= 0:
        return first_seen
    if attempts > len(RECHECK_DAYS):
        return None
    return first_seen + timedelta(days=RECHECK_DAYS[attempts - 1]) - SCHEDULE_SLACK


def schedule_position(first_seen: datetime, now: datetime) -> int:
    """The ``attempts`` at which a paper entering the schedule late (an imported history)
    starts: the check due last is made now, the earlier ones it missed are skipped.

    A paper first seen 5 days ago is checked now and again at 10 and 30 days; one first seen a
    year ago gets a single, last check (every finder, Papers with Code included), then none.
    """
    offsets = (timedelta(0), *(timedelta(days=days) for days in RECHECK_DAYS))
    passed = sum(1 for offset in offsets if first_seen + offset - SCHEDULE_SLACK <= now)
    return max(passed - 1, 0)


def _result_or_not_found(
    source: str, at: datetime, code: str | None, project: str | None, stars: int | None = None
) -> CodeResult | NotFound:
    if code is None and project is None:
        return NotFound(source=source, at=at)
    return CodeResult(source=source, at=at, code_url=code, project_url=project, stars=stars)


class TextFinder:
    """Links the authors wrote in the abstract or the comment: free, so it always runs first."""

    name = "text"
    from_age = timedelta(0)

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def find(self, paper: Paper) -> CodeResult | NotFound:
        links = find_links_in_text(paper.abstract, paper.comment)
        code = links.code[0] if links.code else None
        project = links.project[0] if links.project else None
        return _result_or_not_found(self.name, self._clock(), code, project)


def _text_field(data: Mapping[str, Any], key: str) -> str | None:
    """A short string field (an id, a link); one longer than any link can be is garbage."""
    value = data.get(key)
    if not isinstance(value, str) or len(value) > TEXT_CAPS["url"]:
        return None
    return value.strip() or None


def _int_field(data: Mapping[str, Any], key: str) -> int | None:
    return count_or_none(data.get(key))


class HuggingFaceFinder:
    """``GET {base}/api/papers/{id}``: ``githubRepo``, ``githubStars``, ``projectPage``."""

    name = "huggingface"
    from_age = timedelta(0)

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
    from_age = PWC_FROM_AGE

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


# Hugging Face's documented maximum page size of the daily papers list.
DAILY_LIMIT = 100


class DailyPapersFinder:
    """``GET {base}/api/daily_papers?date=YYYY-MM-DD``: code for every paper on one day's list.

    Each run reads the previous UTC day, which is complete by then; daily runs therefore read
    every day once. A missed day only delays those papers to their next per-paper check.
    """

    name = "huggingface-daily"

    def __init__(self, client: HttpClient, base_url: str, clock: Clock = utc_now) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._clock = clock

    def find_many(self, now: datetime) -> dict[str, CodeResult]:
        day = (now.astimezone(timezone.utc) - timedelta(days=1)).date().isoformat()
        url = f"{self._base}/api/daily_papers"
        params = {"date": day, "limit": str(DAILY_LIMIT)}
        response = self._client.get(url, params=params, accept=JSON_ACCEPT)
        items = _json_list(response.content, redact_url(str(response.request.url)))
        if len(items) >= DAILY_LIMIT:
            logger.info("daily papers of %s filled a page; later entries wait for checks", day)
        found: dict[str, CodeResult] = {}
        for item in items:
            result = self._result(item)
            if result is not None:
                found[result[0]] = result[1]
        return found

    def _result(self, item: object) -> tuple[str, CodeResult] | None:
        paper = item.get("paper") if isinstance(item, dict) else None
        if not isinstance(paper, dict):
            return None
        arxiv_id, repo = _text_field(paper, "id"), _text_field(paper, "githubRepo")
        if arxiv_id is None or repo is None:
            return None
        result = CodeResult(
            source=self.name,
            at=self._clock(),
            code_url=normalise_repo_url(repo) or repo,
            project_url=_text_field(paper, "projectPage"),
            stars=_int_field(paper, "githubStars"),
        )
        return arxiv_id, result


def _json_list(body: bytes, url: str) -> list[Any]:
    """The body as a JSON array (the daily list's shape), or a SourceFormatError naming ``url``."""
    data = loads_json(
        body,
        url,
        fix="the service may be degraded; papers keep their schedule and are checked later",
    )
    if not isinstance(data, list):
        raise SourceFormatError(
            f"{url} answered JSON that is not a list", url=url, fix="report this API change"
        )
    return data


ClientFor = Callable[[str], HttpClient]
"""Returns the shared client of a host family ("huggingface", "paperswithcode", "github")."""

FinderFactory = Callable[[CodeLinkSettings, ClientFor, Clock], AnyFinder]

CODE_FINDERS: dict[str, FinderFactory] = {
    "text": lambda _settings, _clients, clock: TextFinder(clock),
    "huggingface-daily": lambda s, clients, clock: DailyPapersFinder(
        clients("huggingface"), s.hf_base, clock
    ),
    "huggingface": lambda s, clients, clock: HuggingFaceFinder(
        clients("huggingface"), s.hf_base, clock
    ),
    "paperswithcode": lambda s, clients, clock: PapersWithCodeFinder(
        clients("paperswithcode"), s.pwc_base, clock
    ),
}


def make_finders(
    settings: CodeLinkSettings, clients: ClientFor, clock: Clock = utc_now
) -> list[AnyFinder]:
    """The configured finders, in order; an unknown name is a config mistake."""
    finders: list[AnyFinder] = []
    for name in settings.finders:
        factory = CODE_FINDERS.get(name)
        if factory is None:
            raise ConfigError(
                f"enrich.code.finders: unknown finder {name!r}",
                fix=f"use some of: {', '.join(sorted(CODE_FINDERS))}",
            )
        finders.append(factory(settings, clients, clock))
    return finders
