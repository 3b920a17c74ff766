"""The enrich stage: code links, stars, translations and TL;DRs for papers in the store.

Written against :class:`EnrichmentStore`, a Protocol the SQLite store implements, so the logic
is testable with a dict and the store stays the only module that speaks SQL. Store methods are
only ever called from the calling thread; finder look-ups run in a small thread pool.

Nothing is lost to an outage: a paper whose look-up or translation failed is not recorded, so
it stays due and the next run retries it. A finder or provider that keeps failing is switched
off for the rest of the run instead of burning retries on every remaining paper.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from arxiv_radar.enrich.codelinks import (
    AnyFinder,
    BatchCodeFinder,
    ClientFor,
    CodeFinder,
    CodeLinkSettings,
    CodeResult,
    finder_applies,
    make_finders,
    next_check,
)
from arxiv_radar.enrich.protect import TranslationRejected
from arxiv_radar.enrich.stars import GitHubStars, stars_schedule
from arxiv_radar.enrich.summarize import (
    Summarizer,
    SummarySettings,
    make_summarizer,
    resolve_summary_settings,
    summarize_paper,
)
from arxiv_radar.enrich.translate import (
    DEFAULT_KEY_ENVS,
    ProviderMisconfigured,
    TranslationSettings,
    Translator,
    make_translator,
    misconfiguration,
    translate_texts,
)
from arxiv_radar.errors import FetchError
from arxiv_radar.paper import TEXT_CAPS, Paper, clip
from arxiv_radar.records import (
    CODE_CHECK_HORIZON,
    CodeCandidate,
    CodeOutcome,
    StarsSchedule,
    TextKey,
)

__all__ = [
    "CodeCandidate",
    "CodeOutcome",
    "EnrichFailure",
    "EnrichReport",
    "EnrichSettings",
    "Enrichers",
    "EnrichmentStore",
    "TextKey",
    "build_enrichers",
    "enrich",
]

logger = logging.getLogger(__name__)

# Consecutive failures after which a finder or provider is left alone for the rest of the run.
MAX_CONSECUTIVE_FAILURES = 3


class EnrichmentStore(Protocol):
    """What the enrich stage needs from the store."""

    def papers_needing_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without a code URL that were never checked or whose next check is <= now."""
        ...

    def papers_awaiting_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without a code URL still on the schedule whose next check is > now."""
        ...

    def record_code(self, arxiv_id: str, outcome: CodeOutcome) -> None:
        """Store a check: code/project/stars (when not None) with source and time, schedule."""
        ...

    def repos_needing_stars(self, schedule: StarsSchedule) -> list[str]:
        """Code URLs whose star count is unknown or due by ``schedule``."""
        ...

    def record_stars(self, stars: Mapping[str, int], at: datetime) -> None:
        """Store star counts by code URL, with the time they were fetched."""
        ...

    def papers_needing_text(self, key: TextKey, limit: int | None) -> list[Paper]:
        """Papers (current version) with no stored text for ``key``, oldest first."""
        ...

    def record_text(self, paper: Paper, key: TextKey, text: str, at: datetime) -> None:
        """Store a translation or TL;DR for (paper id, paper version, key)."""
        ...


@dataclass(frozen=True)
class EnrichSettings:
    code_enabled: bool = True
    code: CodeLinkSettings = field(default_factory=CodeLinkSettings)
    translation: TranslationSettings = field(default_factory=TranslationSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)


@dataclass(frozen=True)
class Enrichers:
    """The providers a run uses; build them with :func:`build_enrichers` or by hand in tests."""

    finders: Sequence[AnyFinder] = ()
    stars: GitHubStars | None = None
    translator: Translator | None = None
    summarizer: Summarizer | None = None


@dataclass(frozen=True)
class EnrichFailure:
    step: str  # "code:<finder>", "stars", "translate:<field>", "summary"
    arxiv_id: str  # "" when a failure concerns no single paper (a list, a batch)
    reason: str


@dataclass
class EnrichReport:
    """Counts for the run record; ``failures`` say what stays pending and why."""

    code_checked: int = 0
    code_found: int = 0
    code_deferred: int = 0  # backlog checks left for later runs by ``backlog_per_run``
    stars_updated: int = 0
    translated: int = 0
    summarized: int = 0
    rejected: int = 0
    budget_exhausted: bool = False
    failures: list[EnrichFailure] = field(default_factory=list)
    # Key or endpoint mistakes ({"error", "fix"}): they fail the stage, see ProviderMisconfigured.
    misconfigured: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, problem: ProviderMisconfigured) -> None:
        self.misconfigured.append({"error": problem.message, "fix": problem.fix})


def build_enrichers(
    settings: EnrichSettings,
    clients: ClientFor,
    *,
    env: Mapping[str, str] | None = None,
    github_token: str = "",
) -> Enrichers:
    """Providers from settings; raises UserError for an unknown provider or a missing key."""
    summary = resolve_summary_settings(settings.summary, settings.translation)
    return Enrichers(
        finders=make_finders(settings.code, clients) if settings.code_enabled else (),
        stars=(
            GitHubStars(clients("github"), settings.code.github_api_base, github_token)
            if github_token and settings.code_enabled
            else None
        ),
        translator=make_translator(settings.translation, clients("translation"), env),
        summarizer=make_summarizer(summary, clients("summary"), env),
    )


def enrich(
    store: EnrichmentStore, settings: EnrichSettings, enrichers: Enrichers, *, now: datetime
) -> EnrichReport:
    """Run every enrichment that is due; never raises for network trouble (see the report)."""
    report = EnrichReport()
    if enrichers.finders:
        _enrich_code(store, enrichers.finders, settings.code, now, report)
    if enrichers.stars is not None:
        _enrich_stars(store, enrichers.stars, now, report)
    if enrichers.translator is not None:
        _enrich_translations(store, enrichers.translator, settings.translation, now, report)
    if enrichers.summarizer is not None:
        summary = resolve_summary_settings(settings.summary, settings.translation)
        _enrich_summaries(store, enrichers.summarizer, summary, now, report)
    return report


class _Breaker:
    """Counts consecutive failures per name across threads; open means "stop trying this run"."""

    def __init__(self) -> None:
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def is_open(self, name: str) -> bool:
        with self._lock:
            return self._failures.get(name, 0) >= MAX_CONSECUTIVE_FAILURES

    def record(self, name: str, *, ok: bool) -> None:
        with self._lock:
            self._failures[name] = 0 if ok else self._failures.get(name, 0) + 1


@dataclass
class _Check:
    candidate: CodeCandidate
    code: CodeResult | None = None
    project: CodeResult | None = None
    failures: list[EnrichFailure] = field(default_factory=list)


def _check_one(
    finders: Sequence[CodeFinder],
    candidate: CodeCandidate,
    breaker: _Breaker,
    now: datetime,
    known: Mapping[str, CodeResult],
) -> _Check:
    check = _Check(candidate, code=known.get(candidate.paper.arxiv_id))
    if check.code is not None:
        check.project = check.code if check.code.project_url else None
        return check
    for finder in finders:
        if not finder_applies(finder, candidate.first_seen, now):
            continue
        if breaker.is_open(finder.name):
            reason = "skipped after repeated failures"
            check.failures.append(
                EnrichFailure(f"code:{finder.name}", candidate.paper.arxiv_id, reason)
            )
            continue
        try:
            result = finder.find(candidate.paper)
        except FetchError as exc:
            breaker.record(finder.name, ok=False)
            check.failures.append(
                EnrichFailure(f"code:{finder.name}", candidate.paper.arxiv_id, str(exc))
            )
            continue
        breaker.record(finder.name, ok=True)
        if isinstance(result, CodeResult):
            check.project = check.project or (result if result.project_url else None)
            if result.code_url:
                check.code = result
                break
    return check


def _outcome(check: _Check, now: datetime) -> CodeOutcome | None:
    """What to store; None when nothing was found but a finder failed (retry next run)."""
    candidate = check.candidate
    if check.code is None and check.failures:
        return None
    attempts = candidate.attempts + 1
    source = check.code or check.project
    return CodeOutcome(
        code_url=check.code.code_url if check.code else None,
        project_url=check.project.project_url if check.project else None,
        stars=check.code.stars if check.code else None,
        source=source.source if source else "",
        at=source.at if source else now,
        attempts=attempts,
        next_check=None if check.code else next_check(candidate.first_seen, attempts),
    )


def _batch_results(
    finders: Sequence[BatchCodeFinder], now: datetime, report: EnrichReport
) -> dict[str, CodeResult]:
    """What the batch finders know; a failed one costs nothing but its own answer."""
    known: dict[str, CodeResult] = {}
    for finder in finders:
        try:
            found = finder.find_many(now)
        except FetchError as exc:
            report.failures.append(EnrichFailure(f"code:{finder.name}", "", str(exc)))
            continue
        for arxiv_id, result in found.items():
            known.setdefault(arxiv_id, result)
    return known


def _settle_awaiting(
    store: EnrichmentStore,
    known: Mapping[str, CodeResult],
    now: datetime,
    report: EnrichReport,
) -> None:
    """Record code a batch finder reported for papers between two scheduled checks.

    Not a scheduled check, so ``attempts`` stays; finding code ends the schedule.
    """
    for candidate in store.papers_awaiting_code(now):
        result = known.get(candidate.paper.arxiv_id)
        if result is None:
            continue
        outcome = CodeOutcome(
            code_url=result.code_url,
            project_url=result.project_url,
            stars=result.stars,
            source=result.source,
            at=result.at,
            attempts=candidate.attempts,
            next_check=None,
        )
        store.record_code(candidate.paper.arxiv_id, outcome)
        report.code_found += 1


def _within_budget(
    candidates: Sequence[CodeCandidate], now: datetime, budget: int, report: EnrichReport
) -> list[CodeCandidate]:
    """Every recent paper, and at most ``budget`` papers past the schedule (a backlog such as
    an imported history), newest first: importing years of papers must not turn the next run
    into hours of look-ups. The rest stay due and are taken by later runs."""
    recent = [c for c in candidates if now - c.first_seen < CODE_CHECK_HORIZON]
    backlog = [c for c in candidates if now - c.first_seen >= CODE_CHECK_HORIZON]
    report.code_deferred = max(len(backlog) - budget, 0)
    return recent + backlog[: max(budget, 0)]


def _enrich_code(
    store: EnrichmentStore,
    finders: Sequence[AnyFinder],
    settings: CodeLinkSettings,
    now: datetime,
    report: EnrichReport,
) -> None:
    batch = [f for f in finders if isinstance(f, BatchCodeFinder)]
    per_paper = [f for f in finders if not isinstance(f, BatchCodeFinder)]
    due = store.papers_needing_code(now)
    candidates = _within_budget(due, now, settings.backlog_per_run, report)
    known = _batch_results(batch, now, report)
    if known:
        _settle_awaiting(store, known, now, report)
    breaker = _Breaker()
    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        checks = pool.map(lambda c: _check_one(per_paper, c, breaker, now, known), candidates)
        for check in checks:
            report.failures.extend(check.failures)
            outcome = _outcome(check, now)
            if outcome is None:
                continue
            store.record_code(check.candidate.paper.arxiv_id, outcome)
            report.code_checked += 1
            report.code_found += outcome.code_url is not None


def _enrich_stars(
    store: EnrichmentStore, stars: GitHubStars, now: datetime, report: EnrichReport
) -> None:
    repos = store.repos_needing_stars(stars_schedule(now))
    if not repos:
        return
    try:
        counts = stars.fetch(repos)
    except FetchError as exc:
        report.failures.append(EnrichFailure("stars", "", str(exc)))
        return
    store.record_stars(counts, now)
    report.stars_updated += len(counts)


class _Budget:
    """Per-run limits: distinct papers touched and characters sent, whichever ends first."""

    def __init__(self, papers: int | None, chars: int | None) -> None:
        self._max_papers, self._max_chars = papers, chars
        self._papers: set[str] = set()
        self._chars = 0

    def admit(self, paper: Paper, text: str) -> bool:
        new_paper = paper.arxiv_id not in self._papers
        if new_paper and self._max_papers is not None and len(self._papers) >= self._max_papers:
            return False
        if self._max_chars is not None and self._chars + len(text) > self._max_chars:
            return False
        self._papers.add(paper.arxiv_id)
        self._chars += len(text)
        return True


def _field_text(paper: Paper, name: str) -> str:
    return paper.title if name == "title" else paper.abstract


def _chunks(items: Sequence[Paper], size: int) -> Iterator[Sequence[Paper]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


def _enrich_translations(
    store: EnrichmentStore,
    translator: Translator,
    settings: TranslationSettings,
    now: datetime,
    report: EnrichReport,
) -> None:
    run = _TranslationRun(store, translator, settings, now, report)
    fields = ("abstract", "title") if settings.translate_title else ("abstract",)
    for name in fields:
        if not run.translate_field(name):
            return


class _TranslationRun:
    """One run's translation work: the budget and the breaker span every field."""

    def __init__(
        self,
        store: EnrichmentStore,
        translator: Translator,
        settings: TranslationSettings,
        now: datetime,
        report: EnrichReport,
    ) -> None:
        self.store, self.translator, self.settings = store, translator, settings
        self.now, self.report = now, report
        self.budget = _Budget(settings.budget_papers, settings.budget_chars)
        self.breaker = _Breaker()
        self.key_env = settings.api_key_env or DEFAULT_KEY_ENVS.get(settings.provider, "")
        self.stopped = False

    def translate_field(self, name: str) -> bool:
        """Translate every pending paper for one field; False when the run must stop."""
        translator = self.translator
        key = TextKey(name, self.settings.language, translator.name, translator.model)
        papers = self.store.papers_needing_text(key, self.settings.budget_papers)
        for batch in _chunks(papers, self.settings.batch_size):
            admitted = [p for p in batch if self.budget.admit(p, _field_text(p, name))]
            if len(admitted) < len(batch):
                self.report.budget_exhausted = True
            if self.stopped or self.breaker.is_open(translator.name) or not admitted:
                return False
            self._translate_batch(key, admitted)
        return True

    def _translate_batch(self, key: TextKey, papers: Sequence[Paper]) -> None:
        texts = [_field_text(p, key.field) for p in papers]
        step = f"translate:{key.field}"
        try:
            results = translate_texts(
                self.translator,
                texts,
                target=self.settings.language,
                glossary=self.settings.glossary,
            )
        except FetchError as exc:
            self.breaker.record(self.translator.name, ok=False)
            self.report.failures.extend(EnrichFailure(step, p.arxiv_id, str(exc)) for p in papers)
            problem = misconfiguration(exc, section="translation", key_env=self.key_env)
            if problem is not None:
                self.report.refuse(problem)
                self.stopped = True  # every further request would be refused the same way
            return
        self.breaker.record(self.translator.name, ok=True)
        for paper, result in zip(papers, results, strict=True):
            if isinstance(result, TranslationRejected):
                self.report.rejected += 1
                self.report.failures.append(EnrichFailure(step, paper.arxiv_id, str(result)))
                continue
            self.store.record_text(paper, key, clip(result, TEXT_CAPS["text"]), self.now)
            self.report.translated += 1


def _enrich_summaries(
    store: EnrichmentStore,
    summarizer: Summarizer,
    settings: SummarySettings,
    now: datetime,
    report: EnrichReport,
) -> None:
    key = TextKey("tldr", settings.language, summarizer.name, summarizer.model)
    breaker = _Breaker()
    for paper in store.papers_needing_text(key, settings.budget_papers):
        if breaker.is_open(summarizer.name):
            return
        try:
            text = summarize_paper(summarizer, paper, settings.language)
        except FetchError as exc:
            breaker.record(summarizer.name, ok=False)
            report.failures.append(EnrichFailure("summary", paper.arxiv_id, str(exc)))
            problem = misconfiguration(exc, section="summary", key_env=settings.api_key_env)
            if problem is not None:
                report.refuse(problem)
                return
            continue
        except TranslationRejected as rejected:
            breaker.record(summarizer.name, ok=True)
            report.rejected += 1
            report.failures.append(EnrichFailure("summary", paper.arxiv_id, str(rejected)))
            continue
        breaker.record(summarizer.name, ok=True)
        store.record_text(paper, key, clip(text, TEXT_CAPS["text"]), now)
        report.summarized += 1
