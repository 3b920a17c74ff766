"""Data exports: JSON (documented schema, gzip-compressed), CSV and BibTeX.

Exports carry the data, not a presentation of it: titles and abstracts keep arXiv's text (line
breaks included) so consumers can re-render them. Absent values are ``null`` in JSON and empty
cells in CSV. The JSON schema lives in ``arxiv_radar/schemas/papers.schema.json``; bump
:data:`JSON_SCHEMA_VERSION` whenever a field is removed or changes meaning.

The day JSON files are also the site's search data and the source of its day pages' abstracts,
so they are the one copy of each abstract on the site besides the bounded home and topic pages;
gzip keeps that copy at about a third of its size (see README, Outputs). Star counts are not in
the day files: they change monthly, and a day file is rendered again only when its papers
change, so they are published once, in ``stars.json`` (:func:`stars_json`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from arxiv_radar.paper import Entry
from arxiv_radar.publish.cells import safe_code_url, safe_url

__all__ = [
    "CSV_COLUMNS",
    "JSON_SCHEMA_VERSION",
    "bib_inputs_digest",
    "bibtex_stem",
    "gzip_text",
    "iter_csv",
    "iter_json",
    "latex_escape",
    "ranked_key",
    "read_json_exports",
    "records",
    "render_bibtex",
    "stars_json",
]

JSON_SCHEMA_VERSION = 3
# Level 3: on a month of real abstracts (24 MB of JSON) it takes 0.41 s against 1.03 s for
# zlib's default 6, for an 11% larger file (0.69 against 0.63 kB per paper); this runs for every
# month of a cold publish.
_GZIP_LEVEL = 3


def _rfc3339(moment: datetime) -> str:
    """UTC with a ``Z``; naive datetimes are taken to be UTC already."""
    # isoformat, not strftime: this runs three times per paper of every exported month.
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def _record(entry: Entry, zone: tzinfo) -> dict[str, Any]:
    """One paper as the JSON schema describes it (key order is the documented order); ``day``
    is its site day, version 1's date in the display ``zone``."""
    paper = entry.paper
    published = paper.published
    if published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    return {
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "published": _rfc3339(paper.published),
        "updated": _rfc3339(paper.updated),
        "first_seen": _rfc3339(entry.first_seen),
        "day": published.astimezone(zone).date().isoformat(),
        "topics": list(entry.topics),
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "comment": paper.comment or None,
        "doi": paper.doi or None,
        "journal_ref": paper.journal_ref or None,
        "code_url": safe_code_url(entry.code_url),
        "project_url": safe_url(entry.project_url),
        "title_translated": entry.title_translated,
        "abstract_translated": entry.abstract_translated,
        "tldr": entry.tldr,
        "score": entry.score,
        "why": entry.why,
    }


_JSON_ROW = json.JSONEncoder(ensure_ascii=False)  # json.dumps would build one per paper


def records(entries: Iterable[Entry], zone: tzinfo = timezone.utc) -> list[dict[str, Any]]:
    """The export records of ``entries``, to feed :func:`iter_json` and :func:`iter_csv` both."""
    return [_record(entry, zone) for entry in entries]


def iter_json(
    entries: Iterable[Entry | dict[str, Any]], *, generated: datetime | None
) -> Iterator[str]:
    """The JSON export in chunks, one paper per line, for writing without one giant string.

    Takes entries (days in UTC) or their :func:`records`."""
    stamp = json.dumps(_rfc3339(generated) if generated is not None else None)
    yield f'{{\n  "schema_version": {JSON_SCHEMA_VERSION},\n  "generated": {stamp},\n  "papers": ['
    count = 0
    for count, entry in enumerate(entries, 1):
        lead = "\n    " if count == 1 else ",\n    "
        yield lead + _JSON_ROW.encode(_as_record(entry))
    yield "\n  ]\n}\n" if count else "]\n}\n"


def _as_record(item: Entry | dict[str, Any]) -> dict[str, Any]:
    return item if isinstance(item, dict) else _record(item, timezone.utc)


def gzip_text(chunks: Iterable[str]) -> bytes:
    """``chunks`` as UTF-8, gzip-compressed with no file name and a zero mtime, so the same text
    always gives the same bytes (a publish with nothing new changes nothing)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0) as out:
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
    return buffer.getvalue()


def stars_json(counts: str) -> str:
    """Every known star count, ``{"v": 1, "stars": {arxiv_id: stars}}`` sorted by id, from the
    store's compact JSON object of them: the one file a star refresh rewrites (the pages'
    badges are filled from it by stars.js)."""
    return f'{{"v":1,"stars":{counts}}}\n'


def read_json_exports(folder: Path) -> Iterator[dict[str, Any]]:
    """Every paper of the day files listed in ``folder``/index.json, newest day first.

    For consumers and tests: the published exports are split by day (see
    :mod:`arxiv_radar.publish.feeds`), so no file, and no reader, needs the whole history.
    """
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    for month in index["months"]:
        for name in month["days"]:
            raw = (folder / name).read_bytes()
            data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
            yield from data["papers"]


CSV_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "authors",
    "abstract",
    "categories",
    "primary_category",
    "published",
    "updated",
    "first_seen",
    "topics",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
    "comment",
    "doi",
    "journal_ref",
    "title_translated",
    "abstract_translated",
    "tldr",
)
# Lists are joined with "; " because author names and topics may contain commas.
_CSV_LIST_SEPARATOR = "; "
# Spreadsheets run cells that start with these as formulas (CSV injection); a leading apostrophe
# makes them text, as OWASP recommends. arXiv text starting this way is rare, so little is altered.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = _CSV_LIST_SEPARATOR.join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


_CSV_CHUNK_ROWS = 256


def iter_csv(entries: Iterable[Entry | dict[str, Any]]) -> Iterator[str]:
    """RFC 4180 CSV (CRLF rows, quoted only where needed) with a header row, in chunks of rows.

    Takes entries or their :func:`records`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for count, entry in enumerate(entries, 1):
        record = _as_record(entry)
        writer.writerow([_csv_cell(record[column]) for column in CSV_COLUMNS])
        if count % _CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


# --- BibTeX ---------------------------------------------------------------------------------

# Math kept verbatim: $$..$$, $..$, \(..\), \[..\] (the opening delimiter not itself escaped).
_MATH = re.compile(
    r"((?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL
)
_ALWAYS = re.compile(r"(?<!\\)([&%#])")  # errors even inside math
_TEXT_SPECIAL = re.compile(r"(?<!\\)([_$^~<>])")
_TEXT_REPLACEMENT = {
    "_": r"\_",
    "$": r"\$",
    "^": r"\^{}",
    "~": r"{\textasciitilde}",
    "<": r"\textless{}",  # plain TeX fonts would print these as inverted punctuation
    ">": r"\textgreater{}",
}
_LATEX_SPECIALS = re.compile(r"[{}&%#_$^~<>\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Stand-ins for braces while escaping; control characters are already gone, so these are free.
_OPEN, _CLOSE = "\x01", "\x02"


def _names(*lines: str) -> frozenset[str]:
    return frozenset(name for line in lines for name in line.split())


# Control sequences a .bib may carry: whoever cites a paper runs its fields through TeX, so
# anything else (\input, \write18, \def, \csname, \catcode...) is printed, never executed.
# Text: accents, special letters, escaped specials and a few inert font switches.
_TEXT_COMMANDS = _names(
    "' ` \" ^ ~ = . u v H c d b t k r i j o O l L ss SS ae AE oe OE aa AA",
    "& % # _ $ { } , ; : ! - / @ \\",
    "emph textit textbf texttt textsc textrm textsf textsuperscript textsubscript url",
    "textbackslash textasciitilde textasciicircum textless textgreater textbraceleft",
    "textbraceright textunderscore textendash textemdash dots ldots S P dag ddag TeX LaTeX",
) | {" "}
# Math: the symbols, fonts and structures titles use.
_MATH_COMMANDS = _TEXT_COMMANDS | _names(
    "( ) [ ] | alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa",
    "lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega",
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega",
    "mathcal mathbb mathbf mathrm mathit mathsf mathtt mathfrak mathscr boldsymbol bm text",
    "operatorname log ln exp sin cos tan arg min max lim sup inf det dim ker Pr",
    "frac dfrac tfrac sqrt left right big Big bigg Bigg middle hat tilde bar vec dot ddot",
    "widehat widetilde overline underline overrightarrow mathring",
    "infty partial nabla cdot cdots ldots vdots ddots times div pm mp leq le geq ge neq ne",
    "ll gg approx sim simeq cong equiv propto in notin ni subset subseteq supset supseteq cup",
    "cap setminus emptyset varnothing forall exists neg lnot wedge vee land lor to rightarrow",
    "leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow longrightarrow mapsto",
    "uparrow downarrow mid ell hbar imath circ star ast oplus otimes odot bullet sum prod int",
    "iint oint bigcup bigcap bigoplus bigotimes langle rangle lfloor rfloor lceil rceil top",
    "bot perp parallel prime dagger backslash quad qquad colon not",
)
_COMMAND = re.compile(r"\\([^\W\d_]+|.|$)", re.DOTALL)
_CARETS = re.compile(r"\^{2,}")  # ^^5c is TeX's spelling of a backslash: \input in disguise


def _neutralise(segment: str, allowed: frozenset[str], printed: str) -> str:
    """Every control sequence outside ``allowed`` becomes its printed name (``printed`` is the
    backslash glyph of the mode), so it shows in the reference instead of running."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name in allowed else f"{printed}{name}"

    return _COMMAND.sub(replace, segment)


def _escape_math(segment: str) -> str:
    segment = _neutralise(_CARETS.sub("^", segment), _MATH_COMMANDS, r"\backslash{}")
    return _ALWAYS.sub(r"\\\1", segment)


def _escape_text(segment: str) -> str:
    segment = _ALWAYS.sub(r"\\\1", _neutralise(segment, _TEXT_COMMANDS, r"\textbackslash{}"))
    return _TEXT_SPECIAL.sub(lambda m: _TEXT_REPLACEMENT[m.group(1)], segment)


def _braces_balanced(text: str) -> bool:
    """BibTeX counts every brace, escaped or not, to find where a field ends."""
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def latex_escape(text: str) -> str:
    """arXiv metadata is LaTeX source: keep its commands, groups and math; escape stray specials.

    ``& % #`` are escaped everywhere, ``_ ^ ~ < >`` and lone ``$`` outside math. When the braces
    are unbalanced they all become ``\textbraceleft{}``/``\textbraceright{}``: losing grouping
    is better than a field that swallows the rest of the file.
    """
    text = " ".join(_CONTROL.sub("", text).split())
    if not _LATEX_SPECIALS.search(text):
        return text  # most names and titles: nothing to escape, decided by one regex scan
    unbalanced = not _braces_balanced(text)
    if unbalanced:
        text = text.replace("\\{", _OPEN).replace("\\}", _CLOSE)
        text = text.replace("{", _OPEN).replace("}", _CLOSE)
    parts = _MATH.split(text)
    escaped = "".join(
        _escape_math(part) if i % 2 else _escape_text(part) for i, part in enumerate(parts)
    )
    return escaped.replace(_OPEN, r"\textbraceleft{}").replace(_CLOSE, r"\textbraceright{}")


# Keys use only [a-z0-9] so they survive every TeX engine and reference manager.
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_STOPWORDS = frozenset(
    {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is", "are", "via", "at", "by"}
)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def _fold(text: str) -> str:
    """Lower-case ASCII (accents dropped, other scripts removed)."""
    if text.isascii():  # most names and titles: NFKD would change nothing (one stem per paper)
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def _last_name(author: str) -> str:
    """Family name of "First Last", "First Last, Jr" or "Last, First"."""
    words = re.findall(r"[a-z0-9]+", _fold(author.split(",", 1)[0]))
    words = [w for w in words if w not in _NAME_SUFFIXES]
    return words[-1] if words else ""


def _title_word(title: str) -> str:
    plain = _LATEX_COMMAND.sub(" ", _MATH.sub(" ", title))
    words = re.findall(r"[a-z0-9]+", _fold(plain))
    return next((w for w in words if not w.isdigit() and w not in _STOPWORDS), "")


def _letters(n: int) -> str:
    """1 -> a, 2 -> b, ..., 26 -> z, 27 -> aa (bijective base 26)."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def bibtex_stem(first_author: str, title: str, published: datetime) -> str:
    """``<last name><year><first title word>``: the key before any namesake suffix."""
    return f"{_last_name(first_author) or 'anon'}{published.year}{_title_word(title)}"


def ranked_key(stem: str, earlier: int) -> str:
    """The key of a paper with ``earlier`` older namesakes: ``stem``, then ``stem`` + b, c, ..."""
    return stem + _letters(earlier + 1) if earlier else stem


_AND_WORD = re.compile(r"\band\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _bib_author(name: str) -> str:
    """Braced when BibTeX would otherwise split it (" and " inside, or a comma)."""
    escaped = latex_escape(name)
    if "," in name or _AND_WORD.search(name):
        return "{" + escaped + "}"
    return escaped


def _verbatim(value: str) -> str:
    """URLs and DOIs are read verbatim by biblatex, but BibTeX styles print them as TeX: drop
    braces, spaces and backslashes (none belongs in an identifier), so none can run a command."""
    return _NOT_VERBATIM.sub("", value)


_NOT_VERBATIM = re.compile(r"[{}\s\\]")
# What makes latex_escape or _bib_author change a name: specials, control characters, a comma.
_AUTHORS_PLAIN = re.compile(r"[^{}&%#_$^~<>\\,\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*")


def _bib_authors(names: tuple[str, ...]) -> str:
    """The author field: most author lists need no escaping at all, which one scan of the
    joined list decides (no special, no comma, whitespace already single spaces, and no "and"
    besides the separators); the others go name by name."""
    joined = " and ".join(names)
    plain = (
        _AUTHORS_PLAIN.fullmatch(joined) is not None
        and joined == " ".join(joined.split())
        and len(_AND_WORD.findall(joined)) == len(names) - 1
    )
    return joined if plain else " and ".join(_bib_author(a) for a in names)


def _bib_entry(entry: Entry, key: str) -> str:
    paper = entry.paper
    fields = [
        ("title", latex_escape(paper.title)),
        ("author", _bib_authors(paper.authors)),
        ("year", str(paper.published.year)),
        ("eprint", _verbatim(paper.arxiv_id)),
        ("archivePrefix", "arXiv"),
        ("primaryClass", _verbatim(paper.primary_category)),
        ("url", paper.abs_url),
        ("doi", _verbatim(paper.doi)),
        ("howpublished", latex_escape(paper.journal_ref)),
        ("note", latex_escape(paper.comment)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}\n"


def render_bibtex(entries: Iterable[Entry], *, keys: Mapping[str, str]) -> str:
    """BibTeX ``@misc`` records in input order, one per paper, for Zotero and friends.

    ``keys`` come from the store's ranking over every paper (see :func:`ranked_key`), so a paper
    has the same key in every file that lists it.
    """
    unique = list({e.paper.arxiv_id: e for e in entries}.values())
    missing = [e.paper.arxiv_id for e in unique if e.paper.arxiv_id not in keys]
    if missing:
        raise ValueError(f"no citation key for {', '.join(missing)}: compute keys over all entries")
    return "\n".join(_bib_entry(e, keys[e.paper.arxiv_id]) for e in unique)


def bib_inputs_digest(salt: str, entries: Iterable[Entry], keys: Mapping[str, str]) -> str:
    """A hash of everything :func:`render_bibtex` reads from ``entries`` and ``keys`` (salted
    with the renderer's settings digest): equal hashes give equal BibTeX, so a month whose
    papers changed only in fields BibTeX does not show keeps its file unrendered."""
    digest = hashlib.sha256(salt.encode("utf-8"))
    for entry in {e.paper.arxiv_id: e for e in entries}.values():
        paper = entry.paper
        fields = [
            keys.get(paper.arxiv_id),
            paper.arxiv_id,
            paper.title,
            paper.authors,
            paper.published.year,
            paper.primary_category,
            paper.doi,
            paper.journal_ref,
            paper.comment,
        ]
        digest.update(_JSON_ROW.encode(fields).encode("utf-8"))
        digest.update(b"\n")  # JSON escapes newlines: one line per entry, never ambiguous
    return digest.hexdigest()[:32]
