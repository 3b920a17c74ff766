"""The static site in a real headless Chromium: loading, search, filters, links and XSS.

The generated site is written to a temporary folder and served by ``http.server`` on 127.0.0.1,
as GitHub Pages or any static host would serve it. No other host resolves in the browser.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from arxiv_radar.publish.export import gzip_text
from arxiv_radar.publish.site import SiteSettings, write_site
from tests.test_site import FIXTURE_SCORES, build

CHROMIUM = Path("/usr/bin/chromium")
SLOW_SECONDS = 2.0
ARGS = [
    # Nothing but the local server resolves, so a page that tried to load a remote resource
    # would show up as a failed request instead of reaching the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")


@functools.lru_cache(maxsize=1)
def site_files() -> dict[str, str | bytes]:
    """The site as publish writes it: the day data files gzip-compressed again (build()
    unpacks them for the other tests) with the publisher's own function, so the same bytes."""
    return {
        path: gzip_text([text]) if path.endswith(".gz") else text
        for path, text in site_text().items()
    }


@functools.lru_cache(maxsize=1)
def site_text() -> dict[str, str]:
    # The site alone: publish.feeds writes feeds/ and exports/, and test_cli_site_links.py
    # follows the site's links to them after a real run. Vision and NLP are ranked, so their
    # pages load sort.js.
    return build(
        SiteSettings(title="Radar", repository="octo/papers", feeds=False),
        status_line="all sources answered",
        scores=FIXTURE_SCORES,
    )


PAGES = sorted(path for path in site_text() if path.endswith(".html"))


@dataclass
class StaticSite:
    url: str
    files: dict[str, str | bytes]
    log: list[tuple[str, int]] = field(default_factory=list)

    def errors(self) -> list[tuple[str, int]]:
        return [(path, status) for path, status in self.log if status >= 400]


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site folder and records every request's status instead of printing it.

    With ``gzip_encoding`` it sends ``.gz`` files as ``Content-Encoding: gzip`` (as some hosts
    do), so the browser unpacks them before search.js sees the body."""

    record: list[tuple[str, int]]
    gzip_encoding = False
    slow_path = ""  # a file served only after SLOW_SECONDS, so a test sees the others first

    def do_GET(self) -> None:
        if self.slow_path and self.path.endswith(self.slow_path):
            time.sleep(SLOW_SECONDS)
        super().do_GET()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        if self.gzip_encoding and str(path).endswith(".gz"):
            return "application/json"
        return super().guess_type(path)

    def end_headers(self) -> None:
        if self.gzip_encoding and self.path.split("?", 1)[0].endswith(".gz"):
            self.send_header("Content-Encoding", "gzip")
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.record.append((self.path, int(code)))

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet; statuses are in ``record``."""


def _serve(root: Path, *, gzip_encoding: bool, slow_path: str = "") -> Iterator[StaticSite]:
    files = site_files()
    write_site(files.items(), root)
    log: list[tuple[str, int]] = []
    attributes = {"record": log, "gzip_encoding": gzip_encoding, "slow_path": slow_path}
    handler = type("Handler", (_Handler,), attributes)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticSite(f"http://127.0.0.1:{server.server_address[1]}/", files, log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    yield from _serve(tmp_path_factory.mktemp("site"), gzip_encoding=False)


@pytest.fixture(scope="module")
def encoding_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    yield from _serve(tmp_path_factory.mktemp("encoded"), gzip_encoding=True)


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """The oldest day's data file arrives late."""
    slow = "exports/2026-09/papers-2026-09-30.json.gz"
    yield from _serve(tmp_path_factory.mktemp("slow"), gzip_encoding=False, slow_path=slow)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watched:
    """A page plus every problem it reported: console errors, script errors, failed requests."""

    page: Any
    problems: list[str]


@pytest.fixture
def tab(browser: Any) -> Iterator[Watched]:
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on(
        "response",
        lambda res: problems.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None,
    )
    try:
        yield Watched(page, problems)
    finally:
        context.close()


def open_search(tab: Watched, site: StaticSite, query: str = "") -> Any:
    page = tab.page
    page.goto(site.url + "search.html" + query)
    wait_for_search(page)
    return page


def wait_for_search(page: Any) -> None:
    """Until every day file is in: the count says "(still loading older days)" before that."""
    page.wait_for_selector("#count:has-text('match'):not(:has-text('loading'))")


def result_ids(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("#results .paper-title a", "links => links.map(a => a.href)")
    return [href.removeprefix("https://arxiv.org/abs/") for href in hrefs]


def wait_for_results(page: Any, expected: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#results li').length === n", arg=expected, timeout=3000
    )


# --- loading and links --------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_console_errors_or_failed_requests(
    tab: Watched, site: StaticSite, path: str
) -> None:
    before = len(site.log)
    tab.page.goto(site.url + path)
    assert tab.page.title().endswith("· Radar")
    if path == "search.html":
        wait_for_search(tab.page)
    if path.startswith("days/"):  # abstracts.js fetches the day's data file
        tab.page.wait_for_selector("details[data-abstract] > p:not(.slot)", state="attached")
    assert tab.problems == []
    assert [status for _, status in site.log[before:]] == [200] * len(site.log[before:])
    assert len(site.log) - before >= 2  # the page and its stylesheet at least


# Runs in the page: follows every same-site href/src from the start URLs with fetch() and
# DOMParser, so the browser itself resolves each relative link; checks #fragments too.
CRAWL = """async (start) => {
  const seen = new Set(start), queue = [...start], bad = [], docs = new Map(), anchors = [];
  while (queue.length) {
    const url = queue.shift();
    const response = await fetch(url);
    if (!response.ok) { bad.push(`${response.status} ${url}`); continue; }
    if (!new URL(url).pathname.endsWith('.html')) { continue; }
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    docs.set(url, doc);
    const links = [];
    for (const name of ['href', 'src', 'action', 'data-index']) {
      doc.querySelectorAll(`[${name}]`).forEach((el) => links.push(el.getAttribute(name)));
    }
    for (const raw of links) {
      const target = new URL(raw, url);
      if (target.origin !== location.origin) { continue; }
      if (target.hash) { anchors.push([url, target.href]); }
      target.hash = ''; target.search = '';
      if (!seen.has(target.href)) { seen.add(target.href); queue.push(target.href); }
    }
  }
  for (const [from, href] of anchors) {
    const target = new URL(href), id = decodeURIComponent(target.hash.slice(1));
    target.hash = ''; target.search = '';
    const doc = docs.get(target.href);
    if (!doc || !doc.getElementById(id)) { bad.push(`missing #${id} linked from ${from}`); }
  }
  return {seen: [...seen], bad};
}"""


def test_every_link_from_home_and_search_results_resolves(tab: Watched, site: StaticSite) -> None:
    page = open_search(tab, site, "?q=a")  # results are built by search.js: crawl them too
    dynamic = page.eval_on_selector_all("#results a", "links => links.map(a => a.href)")
    local = sorted({urljoin(href, urlsplit(href).path) for href in dynamic if site.url in href})
    assert any("/days/" in url for url in local)
    assert any("/topics/" in url for url in local)
    result = page.evaluate(CRAWL, [site.url + "index.html", *local])
    assert result["bad"] == []
    reached = {url.removeprefix(site.url) for url in result["seen"]}
    # Day data files and stars.json are data that scripts fetch (tested below), not links.
    pages = {name for name in site.files if not name.startswith("exports/")}
    assert pages - {".nojekyll", "404.html"} <= reached
    assert tab.problems == []
    assert site.errors() == []


# --- search -------------------------------------------------------------------------------------


def test_typing_narrows_results_and_updates_the_url(tab: Watched, site: StaticSite) -> None:
    page = open_search(tab, site)
    assert page.inner_text("#count") == "7 papers match."
    page.click("#q")
    page.keyboard.type("sparse att")
    wait_for_results(page, 1)
    assert result_ids(page) == ["2611.10002"]
    assert page.inner_text("#count") == "1 paper matches."
    assert urlsplit(page.url).query == "q=sparse+att"
    page.fill("#q", "emile")  # accents are folded: matches the author Émile Zola
    wait_for_results(page, 1)
    page.fill("#q", "no such words anywhere")
    wait_for_results(page, 0)
    assert page.inner_text("#count") == "0 papers match."
    assert tab.problems == []


def test_search_finds_words_far_into_an_abstract_and_in_translations(
    tab: Watched, site: StaticSite
) -> None:
    page = open_search(tab, site)
    page.fill("#q", "consequat")  # the last word of a 248-character abstract
    wait_for_results(page, 1)
    assert result_ids(page) == ["2610.04444"]
    page.fill("#q", "")
    wait_for_results(page, 7)
    page.fill("#q", "sparliche")  # the German translation, accents folded
    wait_for_results(page, 1)
    assert result_ids(page) == ["2611.10002"]
    assert tab.problems == []


def test_search_shows_the_newest_days_results_while_older_days_still_load(
    tab: Watched, slow_site: StaticSite
) -> None:
    page = tab.page
    page.goto(slow_site.url + "search.html")
    # Well before the slow file: the five newer days' six papers, saying more are coming.
    page.wait_for_selector("#count:has-text('6 papers match')", timeout=1500)
    assert page.inner_text("#count") == "6 papers match (still loading older days)."
    assert result_ids(page)[0] == "2611.10003"  # newest day first
    wait_for_search(page)
    assert page.inner_text("#count") == "7 papers match."
    assert len(result_ids(page)) == 7
    assert tab.problems == []


def test_search_reads_data_files_a_host_already_unpacked(
    tab: Watched, encoding_site: StaticSite
) -> None:
    """Some hosts send .gz files with Content-Encoding: gzip; the body is then plain JSON."""
    page = open_search(tab, encoding_site)
    assert page.inner_text("#count") == "7 papers match."
    page.fill("#q", "consequat")
    wait_for_results(page, 1)
    assert result_ids(page) == ["2610.04444"]
    assert tab.problems == []
    assert encoding_site.errors() == []


# --- day pages' abstracts -----------------------------------------------------------------------


def abstracts(page: Any) -> dict[str, list[list[str]]]:
    """Per card's abstract slot (arXiv id): its paragraphs as [class, text], once filled."""
    page.wait_for_selector("details[data-abstract] > p:not(.slot)", state="attached")
    return dict(
        page.eval_on_selector_all(
            "details[data-abstract]",
            """slots => slots.map(d => [d.dataset.abstract,
                [...d.querySelectorAll('p')].map(p => [p.className, p.textContent])])""",
        )
    )


def test_latest_day_page_fills_abstracts_and_translations_from_its_day_file(
    tab: Watched, site: StaticSite
) -> None:
    page = tab.page
    page.goto(site.url + "days/2026-11-20.html")
    filled = abstracts(page)
    assert filled["2611.10002"] == [
        [
            "",
            "We show that $$\\sum_{i=1}^n x_i$$ and $\\alpha<\\beta$ hold, which costs \\$5 only.",
        ],
        ["translated", "Wir zeigen etwas."],
    ]
    # Math is set apart as on the server-rendered pages; an escaped dollar is not math.
    math = page.eval_on_selector_all(
        'details[data-abstract="2611.10002"] .math', "spans => spans.map(s => s.textContent)"
    )
    assert math == ["$$\\sum_{i=1}^n x_i$$", "$\\alpha<\\beta$"]
    hostile = filled["2611.10003"][0][1]
    assert "<script>window.__xss=3</script>" in hostile  # shown as text
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert ("/exports/2026-11/papers-2026-11-20.json.gz", 200) in site.log
    assert tab.problems == []


def test_an_old_day_page_fills_its_abstracts_too(tab: Watched, site: StaticSite) -> None:
    page = tab.page
    page.goto(site.url + "days/2026-10-15.html")
    text = abstracts(page)["2610.04444"][0][1]
    assert text.startswith("A long abstract. Lorem ipsum") and text.endswith("consequat.")
    assert ("/exports/2026-10/papers-2026-10-15.json.gz", 200) in site.log
    assert tab.problems == []


def test_day_page_abstracts_from_a_host_that_already_unpacked_the_file(
    tab: Watched, encoding_site: StaticSite
) -> None:
    tab.page.goto(encoding_site.url + "days/2026-11-20.html")
    assert abstracts(tab.page)["2611.10002"][1] == ["translated", "Wir zeigen etwas."]
    assert tab.problems == []
    assert encoding_site.errors() == []


def test_without_javascript_a_day_page_links_each_abstract_on_arxiv(
    browser: Any, site: StaticSite
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + "days/2026-11-20.html")
        slots = page.eval_on_selector_all(
            "details[data-abstract]",
            """slots => slots.map(d => [d.dataset.abstract, d.textContent.trim(),
                d.querySelector('a').href])""",
        )
    finally:
        context.close()
    assert sorted(slots) == [
        [f"2611.{n}", "AbstractAbstract on arXiv", f"https://arxiv.org/abs/2611.{n}"]
        for n in ("10002", "10003")
    ]


def test_star_badges_come_from_stars_json(tab: Watched, site: StaticSite) -> None:
    page = tab.page
    page.goto(site.url + "days/2026-11-20.html")
    page.wait_for_selector("a.code + .stars")
    badges = page.eval_on_selector_all(
        "a[data-stars]",
        "links => links.map(a => [a.dataset.stars, a.nextElementSibling.textContent])",
    )
    assert badges == [["2611.10003", "★ 42"]]
    assert any(path.endswith("exports/stars.json") for path, _ in site.log)
    assert tab.problems == []


def test_topic_date_and_code_filters(tab: Watched, site: StaticSite) -> None:
    page = open_search(tab, site)
    page.select_option("#topic", "nlp")
    wait_for_results(page, 3)
    assert result_ids(page) == ["2611.10002", "2611.00500", "2610.04444"]
    page.select_option("#topic", "")
    page.fill("#from", "2026-11-01")
    page.fill("#to", "2026-11-19")
    wait_for_results(page, 3)
    assert result_ids(page) == ["2611.10001", "2611.00500", "2611.00001"]
    page.check("#code")
    wait_for_results(page, 1)
    assert result_ids(page) == ["2611.00500"]
    assert urlsplit(page.url).query == "from=2026-11-01&to=2026-11-19&code=1"
    page.fill("#from", "")
    page.fill("#to", "")
    wait_for_results(page, 2)  # the ftp:// "code" link does not count
    assert result_ids(page) == ["2611.10003", "2611.00500"]
    assert tab.problems == []


def test_a_shared_search_url_restores_its_filters(tab: Watched, site: StaticSite) -> None:
    page = open_search(tab, site, "?topic=vision&code=1&q=robust")
    wait_for_results(page, 1)
    assert result_ids(page) == ["2611.10003"]
    assert page.input_value("#topic") == "vision"
    assert page.is_checked("#code")
    assert page.input_value("#q") == "robust"
    page = open_search(tab, site, "?topic=not-a-topic")
    wait_for_results(page, 7)
    assert page.input_value("#topic") == ""


def test_search_is_usable_from_the_keyboard(tab: Watched, site: StaticSite) -> None:
    page = open_search(tab, site)
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.type("sheep")
    wait_for_results(page, 1)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "topic"
    page.keyboard.press("ArrowDown")  # selects the next topic in a closed <select>
    page.wait_for_function("() => location.search.includes('topic=vision')")
    wait_for_results(page, 0)


# --- sorting a ranked topic ---------------------------------------------------------------------


def card_ids(page: Any, slug: str) -> list[str]:
    return list(
        page.eval_on_selector_all(f"#papers-{slug} > li", "cards => cards.map(c => c.dataset.id)")
    )


def test_sort_control_reorders_cards_by_score_within_each_day_and_the_url_keeps_it(
    tab: Watched, site: StaticSite
) -> None:
    page = tab.page
    page.goto(site.url + "topics/vision.html")
    relevance = page.locator("#main .sort-control button[data-sort=relevance]")
    relevance.wait_for(state="visible")  # sort.js shows the control it drives
    by_date = ["2611.10003", "2611.10002", "2611.00001", "hep-th/9711200"]
    assert card_ids(page, "vision") == by_date
    relevance.focus()
    page.keyboard.press("Enter")  # a real button: the keyboard works as a click does
    by_score = ["2611.10002", "2611.10003", "2611.00001", "hep-th/9711200"]  # within 2026-11-20
    assert card_ids(page, "vision") == by_score
    assert relevance.get_attribute("aria-pressed") == "true"
    assert urlsplit(page.url).query == "sort=relevance"
    page.reload()
    relevance.wait_for(state="visible")
    assert card_ids(page, "vision") == by_score  # a shared or reloaded URL keeps the order
    assert relevance.get_attribute("aria-pressed") == "true"
    page.click("#main .sort-control button[data-sort=date]")
    assert card_ids(page, "vision") == by_date
    assert urlsplit(page.url).query == "sort=date"
    page.goto(site.url + "index.html?sort=relevance")  # the home page's ranked sections follow
    page.locator("#t-vision .sort-control").wait_for(state="visible")
    assert card_ids(page, "vision") == ["2611.10002", "2611.10003"]
    assert page.locator("#t-c-graphs .sort-control").count() == 0  # no scores, no control
    page.goto(site.url + "days/2026-11-20.html?sort=relevance")  # and so do the day pages
    page.locator("#t-vision .sort-control").wait_for(state="visible")
    assert card_ids(page, "vision") == ["2611.10002", "2611.10003"]
    assert tab.problems == []


# --- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "selector"),
    [
        ("index.html", ".paper-title"),
        ("topics/vision.html", ".paper-title"),
        ("search.html?q=robust", "#results .paper-title"),
    ],
)
def test_hostile_title_is_shown_as_text_and_never_runs(
    tab: Watched, site: StaticSite, path: str, selector: str
) -> None:
    page = tab.page
    page.goto(site.url + path)
    page.wait_for_selector(selector)
    titles = page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")
    assert any("<script>window.__xss=1</script>" in title for title in titles)
    assert any('<img src=x onerror="window.__xss=2">' in title for title in titles)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert tab.problems == []
