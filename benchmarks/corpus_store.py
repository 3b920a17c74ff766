"""A store of cs.* density from real arXiv text, for the scale benchmark (issue 10).

cs.* runs at about 12,500 new papers a month, some 600 an announcement day, over the 20
topics a broad digest follows. This module makes such a history from the real records of
``../shared/data/corpus/papers.jsonl`` (34k titles, abstracts, author lists and comments of
cs.CV/cs.CL/cs.AI listings, cycled with fresh ids and dates), and fills it through the public
``Store`` API, in one transaction, with bulk calls where the API has them:

- ids ``YYMM.NNNNN``, unique, numbered per month of first publication; one listing day
  (Monday to Friday) holds :data:`PER_DAY` papers, so 100k papers span about 8 months and 400k
  about 32, ending :data:`DAYS_AFTER` listing days before today (those days are what the daily
  figures add, so every date the benchmark writes is in the past, as in a real digest);
- each paper in one or two of the 20 topics; a topic is one cs subcategory
  (``cat:cs.XX``), and a paper's categories are exactly its topics' codes, so the local match of
  a daily run puts a listed paper in the topics its history twin would be in;
- ~25 % with a GitHub code link and a star count (checked at the end of the history, so no
  count is due for its monthly refresh), the rest looked up and settled (recent ones scheduled
  for a re-check after today), as a digest that has run all along would hold them;
- ~5 % with an abstract translated into Chinese: sentences drawn from :data:`CJK_POOL`, a fixed
  pool of Chinese sentences written for this benchmark about half the English length, as real
  translations are;
- every paper delivered to the two channels of :data:`CHANNELS` (email and Slack), their
  delivery watermarks after the last day and the category watermark at the last listing day,
  so a run afterwards reads one new day.

The data is seeded: the same size and today give the same store.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from arxiv_radar.paper import Paper
from arxiv_radar.store import Store

try:  # the value types move out of enrich/ (issue 10's store split); either home will do
    from arxiv_radar.records import CodeOutcome, TextKey
except ImportError:
    from arxiv_radar.enrich.model import CodeOutcome, TextKey

UTC = timezone.utc
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "corpus" / "papers.jsonl"
PER_DAY = 595  # 12,500 a month over ~21 listing days
DAYS_AFTER = 12  # listing days between the history's end and today, for the daily figures
CODE_SHARE = 0.25
TRANSLATED_SHARE = 0.05
TOPIC_CODES = (
    "cs.AI",
    "cs.CL",
    "cs.CV",
    "cs.LG",
    "cs.RO",
    "cs.CR",
    "cs.DC",
    "cs.DS",
    "cs.HC",
    "cs.IR",
    "cs.IT",
    "cs.NE",
    "cs.NI",
    "cs.PL",
    "cs.SE",
    "cs.SI",
    "cs.SY",
    "cs.GR",
    "cs.MA",
    "cs.DB",
)
CHANNELS = ("email", "chat:slack:SLACK_WEBHOOK_URL")
TRANSLATION = TextKey("abstract", "zh-CN", "openai", "deepseek-chat")
CJK_POOL = (
    "我们提出了一种新的方法来解决这个问题。",
    "实验结果表明该方法在多个基准数据集上取得了最先进的性能。",
    "现有方法通常依赖大量标注数据，而这在实际应用中难以获得。",  # noqa: RUF001 (Chinese text)
    "为此，我们设计了一个轻量级的网络结构，并引入了注意力机制。",  # noqa: RUF001 (Chinese text)
    "我们在理论上证明了该算法的收敛性，并给出了误差界。",  # noqa: RUF001 (Chinese text)
    "大型语言模型在推理任务中表现出强大的能力，但仍存在幻觉问题。",  # noqa: RUF001 (Chinese text)
    "本文构建了一个新的数据集，并公开了代码和模型以促进后续研究。",  # noqa: RUF001 (Chinese text)
    "与基线相比，我们的方法将计算成本降低了一半以上。",  # noqa: RUF001 (Chinese text)
    "我们进一步分析了不同组件对最终性能的贡献。",
    "该框架可以无缝扩展到三维场景理解和机器人控制任务。",
    "通过对比学习，模型能够学到更具判别性的特征表示。",  # noqa: RUF001 (Chinese text)
    "我们还讨论了方法的局限性以及未来可能的研究方向。",
    "在真实世界的部署中，该系统表现出良好的鲁棒性和可扩展性。",  # noqa: RUF001 (Chinese text)
    "此外，我们提出了一种高效的训练策略，显著缩短了训练时间。",  # noqa: RUF001 (Chinese text)
    "大量消融实验验证了每个模块设计的合理性。",
    "我们的分析揭示了模型规模与泛化能力之间的关系。",
)


@dataclass(frozen=True)
class Record:
    """One real corpus record: the text a generated paper borrows."""

    title: str
    abstract: str
    authors: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class Plan:
    """The dates of a history: its listing days, and the days the benchmark adds after it."""

    days: tuple[date, ...]  # the history's listing days, oldest first
    after: tuple[date, ...]  # the next DAYS_AFTER listing days (the last is today's latest)

    @property
    def end(self) -> date:
        return self.days[-1]


def corpus_available(path: Path = CORPUS) -> bool:
    return path.is_file()


def load_corpus(path: Path = CORPUS) -> list[Record]:
    """The corpus records, in file order (a digest's text as arXiv wrote it)."""
    records = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            records.append(
                Record(
                    raw["title"],
                    raw["abstract"],
                    tuple(raw["authors"]),
                    raw.get("comment") or "",
                )
            )
    return records


def listing_days_back(last: date, count: int) -> list[date]:
    """``count`` listing days (Monday to Friday) ending at ``last``, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def latest_listing_day(today: date) -> date:
    day = today
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def plan(size: int, today: date, per_day: int = PER_DAY) -> Plan:
    """The history's listing days for ``size`` papers, ending DAYS_AFTER listing days before
    the latest listing day on or before ``today``."""
    every = listing_days_back(latest_listing_day(today), -(-size // per_day) + DAYS_AFTER)
    return Plan(tuple(every[:-DAYS_AFTER]), tuple(every[-DAYS_AFTER:]))


def first_seen(day: date) -> datetime:
    """When a digest's daily run saw the listing of ``day`` (arXiv announces around 01:00 UTC)."""
    return datetime.combine(day, time(2, 0), tzinfo=UTC)


def submitted(day: date, minute: int) -> datetime:
    """A v1 submission time announced in the listing of ``day``: the weekday before, 7:00 to
    13:40 US Eastern (before arXiv's 14:00 cut-off), so a listing day's papers make exactly
    one day shard of the state (``papers/YYYY-MM/DD.jsonl`` by the UTC day of submission)."""
    before = day - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return datetime.combine(before, time(12, 0), tzinfo=UTC) + timedelta(minutes=minute % 400)


def topics_of(rng: random.Random) -> tuple[str, ...]:
    """One topic code, and half the time a second one."""
    first = rng.randrange(len(TOPIC_CODES))
    if rng.random() < 0.5:
        second = (first + 1 + rng.randrange(len(TOPIC_CODES) - 1)) % len(TOPIC_CODES)
        return (TOPIC_CODES[first], TOPIC_CODES[second])
    return (TOPIC_CODES[first],)


def make_paper(record: Record, arxiv_id: str, day: date, index: int, codes: Sequence[str]) -> Paper:
    when = submitted(day, index)
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=record.title,
        authors=record.authors,
        abstract=record.abstract,
        categories=tuple(codes),
        primary_category=codes[0],
        published=when,
        updated=when,
        comment=record.comment,
    )


class Numbers:
    """Fresh ``YYMM.NNNNN`` ids: numbered per month of the submission date, from ``start``."""

    def __init__(self, start: int = 1) -> None:
        self.start = start
        self.next: dict[str, int] = {}

    def take(self, when: datetime) -> str:
        month = f"{when:%y%m}"
        number = self.next.get(month, self.start)
        self.next[month] = number + 1
        return f"{month}.{number:05d}"


def day_papers(
    records: Sequence[Record],
    cursor: int,
    day: date,
    count: int,
    *,
    rng: random.Random,
    numbers: Numbers,
) -> list[tuple[Paper, tuple[str, ...]]]:
    """``count`` papers of the listing ``day`` with their topics, borrowing the records from
    ``cursor`` on (cyclically)."""
    papers = []
    for i in range(count):
        codes = topics_of(rng)
        record = records[(cursor + i) % len(records)]
        when = submitted(day, i)
        papers.append((make_paper(record, numbers.take(when), day, i, codes), codes))
    return papers


def repo_url(paper: Paper) -> str:
    owner = paper.authors[0].split()[-1] if paper.authors else "lab"
    name = "".join(ch for ch in paper.arxiv_id if ch.isdigit())
    clean = "".join(ch for ch in owner if ch.isascii() and (ch.isalnum() or ch == "-")) or "lab"
    return f"https://github.com/{clean}/repo-{name}"


def translation(rng: random.Random, english: str) -> str:
    """Chinese sentences from CJK_POOL, about half as many characters as ``english``."""
    parts: list[str] = []
    length = 0
    while length < len(english) // 2:
        sentence = CJK_POOL[rng.randrange(len(CJK_POOL))]
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)


@dataclass
class Fill:
    """What a fill wrote: counts for the benchmark's output."""

    papers: int = 0
    memberships: int = 0
    code_links: int = 0
    translations: int = 0


class Filler:
    """Fills one store; shared by the history build and the days the figures add."""

    def __init__(self, store: Store, records: Sequence[Record], seed: int, today: date) -> None:
        self.store = store
        self.records = records
        self.rng = random.Random(seed)
        self.today = today
        self.cursor = 0
        self.fill = Fill()

    def add_day(
        self, day: date, count: int, numbers: Numbers, *, enrich: bool
    ) -> list[tuple[Paper, tuple[str, ...]]]:
        """One listing day: its papers, their topics and (``enrich``) code and translations."""
        papers = day_papers(self.records, self.cursor, day, count, rng=self.rng, numbers=numbers)
        self.cursor += count
        seen = first_seen(day)
        self.store.upsert_papers([p for p, _ in papers], seen_at=seen, source="listing")
        for code in TOPIC_CODES:
            ids = [p.arxiv_id for p, codes in papers if code in codes]
            if ids:
                self.fill.memberships += self.store.add_matches(code, ids, matched_at=seen)
        self.fill.papers += count
        if enrich:
            self._enrich(day, [p for p, _ in papers])
        return papers

    def _enrich(self, day: date, papers: list[Paper]) -> None:
        settled: dict[str, CodeOutcome] = {}
        checked = first_seen(day) + timedelta(days=1)
        recent = day > self.today - timedelta(days=40)
        for paper in papers:
            if self.rng.random() < CODE_SHARE:
                self.store.record_code(paper.arxiv_id, self._linked(paper))
                self.fill.code_links += 1
            else:
                again = self.today + timedelta(days=2 + self.rng.randrange(14)) if recent else None
                start = datetime.combine(again, time(3), tzinfo=UTC) if again else None
                settled[paper.arxiv_id] = CodeOutcome(
                    None, None, None, "huggingface", checked, 3, start
                )
            if self.rng.random() < TRANSLATED_SHARE:
                text = translation(self.rng, paper.abstract)
                self.store.record_text(paper, TRANSLATION, text, checked)
                self.fill.translations += 1
        self.store.seed_code_links(settled)

    def _linked(self, paper: Paper) -> CodeOutcome:
        """A code link whose star count was fetched this month (none due for the monthly
        refresh; the last 30 days' counts are due daily, as in a digest's real run)."""
        month = datetime.combine(self.today.replace(day=1), time(0, 30), tzinfo=UTC)
        at = max(month, first_seen(paper.published.date()) + timedelta(days=1))
        stars = int(self.rng.paretovariate(1.2) * 3)
        return CodeOutcome(repo_url(paper), None, stars, "huggingface", at, 1, None)


def build_history(
    path: Path, records: Sequence[Record], history: Plan, size: int, today: date
) -> Fill:
    """Fill a new store at ``path`` with ``size`` papers over ``history``'s days."""
    with Store.open(path) as store, store.transaction():
        filler = Filler(store, records, seed=20261202 + size, today=today)
        numbers = Numbers()
        start = first_seen(history.days[0]) - timedelta(days=1)
        for channel in CHANNELS:
            store.destination_added(channel, at=start)
        left = size
        for day in history.days:
            count = min(PER_DAY, left)
            papers = filler.add_day(day, count, numbers, enrich=True)
            for channel in CHANNELS:
                ids = [p.arxiv_id for p, _ in papers]
                store.mark_delivered(channel, ids, at=first_seen(day) + timedelta(hours=1))
            left -= count
        # Every day's papers went out, so each destination's watermark is where a digest that
        # ran every day would have it.
        latest = store.latest_match()
        for channel in CHANNELS:
            if latest is not None:
                store.advance_delivered(channel, latest)
        store.set_category_state("cs", history.end, at=first_seen(history.end))
        announcement = {"day": history.end.isoformat(), "listed": PER_DAY}
        store.set_meta("last_announcement", json.dumps(announcement, sort_keys=True))
        return filler.fill


def iter_day_numbers(first: int = 20_000) -> Iterator[Numbers]:
    """Id numbering for added days, after every number the history used (at most ~14k a month)."""
    step = 0
    while True:
        yield Numbers(first + step * 1_000)
        step += 1
