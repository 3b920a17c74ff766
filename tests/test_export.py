"""JSON (against its published schema), CSV and BibTeX exports.

jsonschema is not installed in the project's environment, so the JSON export is checked by a
small validator for exactly the keywords the schema uses; it refuses keywords it does not know,
so the schema cannot grow a rule that silently goes unchecked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import arxiv_radar
from arxiv_radar.paper import Entry
from arxiv_radar.publish.export import (
    CSV_COLUMNS,
    JSON_SCHEMA_VERSION,
    bibtex_stem,
    iter_csv,
    iter_json,
    latex_escape,
    ranked_key,
    render_bibtex,
)
from arxiv_radar.publish.feeds import sync_bib_stems
from arxiv_radar.store import Store
from tests.filling import fill_store
from tests.test_feeds import load_entries

GENERATED = datetime(2024, 5, 7, 6, 30, tzinfo=timezone.utc)
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}
_ANNOTATIONS = {"$schema", "$id", "title", "description", "format", "$defs"}
_KEYWORDS = {"type", "const", "required", "properties", "additionalProperties", "items", "minimum"}
_KEYWORDS |= {"minLength", "pattern", "$ref"}


def render_json(entries: Iterable[Entry], *, generated: datetime | None) -> str:
    return "".join(iter_json(entries, generated=generated))


def render_csv(entries: Iterable[Entry]) -> str:
    return "".join(iter_csv(entries))


def store_keys(tmp_path: Path, entries: Sequence[Entry]) -> dict[str, str]:
    """Citation keys as the published BibTeX files get them: stems synced into a real store,
    ranked among namesakes there (papers are added to the store at ``tmp_path``)."""
    members = {t: [e for e in entries if t in e.topics] for e in entries for t in e.topics}
    with Store.open(tmp_path / "radar.db") as store:
        fill_store(store, entries, members)
        sync_bib_stems(store)
        ranks = store.bib_ranks(e.paper.arxiv_id for e in entries)
    return {arxiv_id: ranked_key(stem, earlier) for arxiv_id, (stem, earlier) in ranks.items()}


def _schema() -> dict[str, Any]:
    text = (Path(arxiv_radar.__file__).parent / "schemas" / "papers.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _type_ok(value: Any, names: str | list[str]) -> bool:
    wanted = [names] if isinstance(names, str) else names
    if isinstance(value, bool):
        return False  # bool is an int in Python, never in JSON Schema
    return any(isinstance(value, _TYPES[name]) for name in wanted)


def _check_object(value: dict[str, Any], schema: dict[str, Any], root: Any, at: str) -> list[str]:
    errors = [f"{at}: missing {key}" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties", {})
    if schema.get("additionalProperties") is False:
        errors += [f"{at}: unexpected {key}" for key in value if key not in properties]
    for key, sub in properties.items():
        if key in value:
            errors += _validate(value[key], sub, root, f"{at}.{key}")
    return errors


def _check_scalar(value: Any, schema: dict[str, Any], at: str) -> list[str]:
    errors = []
    if isinstance(value, int) and value < schema.get("minimum", value):
        errors.append(f"{at}: below minimum")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: too short")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
    return errors


def _validate(value: Any, schema: dict[str, Any], root: Any, at: str = "$") -> list[str]:
    """Every violation of the keywords the papers schema uses, as readable messages."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _validate(value, target, root, at)
    unknown = set(schema) - _ANNOTATIONS - _KEYWORDS
    assert not unknown, f"the test validator does not implement {unknown}"
    if "type" in schema and not _type_ok(value, schema["type"]):
        return [f"{at}: {value!r} is not {schema['type']}"]
    errors = (
        [f"{at}: not {schema['const']!r}"] if "const" in schema and value != schema["const"] else []
    )
    if isinstance(value, dict):
        errors += _check_object(value, schema, root, at)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += _validate(item, schema["items"], root, f"{at}[{i}]")
    return errors + _check_scalar(value, schema, at)


def test_json_export_validates_against_the_schema() -> None:
    document = json.loads(render_json(load_entries(), generated=GENERATED))
    assert _validate(document, _schema(), _schema()) == []
    assert (
        document["schema_version"]
        == JSON_SCHEMA_VERSION
        == _schema()["properties"]["schema_version"]["const"]
    )


def test_validator_catches_a_broken_export() -> None:
    """The check above could fail: wrong types, missing and unknown keys are all reported."""
    document = json.loads(render_json(load_entries()[:1], generated=None))
    paper = document["papers"][0]
    paper["day"] = "May 2nd"
    paper["extra"] = 1
    del paper["doi"]
    paper["published"] = "2024-05-02 17:59"
    errors = _validate(document, _schema(), _schema())
    assert len(errors) == 4, errors


def test_json_values_round_trip_and_absent_is_null() -> None:
    entries = load_entries()
    papers = json.loads(render_json(entries, generated=None))["papers"]
    assert [p["arxiv_id"] for p in papers] == [e.paper.arxiv_id for e in entries]
    first, nasty, _, maldacena, seeing = papers
    assert first["title"] == "Sparse Mixtures of Experts for $O(n \\log n)$ Attention"
    assert first["abstract"] == entries[0].paper.abstract  # line breaks kept
    assert first["published"] == "2024-05-02T17:59:01Z"
    assert "stars" not in first  # counts live in exports/stars.json (schema version 2)
    assert first["day"] == "2024-05-02"  # the site's day: UTC here (no zone given)
    assert first["doi"] is None
    assert first["project_url"] is None
    assert nasty["title"].endswith("</script>\u0007")
    assert maldacena["doi"] == "10.1023/A:1026654312961"
    assert maldacena["abs_url"] == "https://arxiv.org/abs/hep-th/9711200"
    assert seeing["authors"] == ["ATLAS Collaboration and Friends", "李华"]


def test_json_streams_one_chunk_per_paper() -> None:
    entries = load_entries()
    chunks = list(iter_json(iter(entries), generated=GENERATED))
    assert len(chunks) == len(entries) + 2
    lines = render_json(entries, generated=GENERATED).splitlines()
    assert sum(line.startswith('    {"arxiv_id"') for line in lines) == len(entries)


def test_json_empty_export_is_valid() -> None:
    document = json.loads(render_json([], generated=None))
    assert document == {"schema_version": JSON_SCHEMA_VERSION, "generated": None, "papers": []}
    assert _validate(document, _schema(), _schema()) == []


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_round_trips_commas_quotes_and_newlines() -> None:
    entries = load_entries()
    text = render_csv(entries)
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = _csv_rows(text)
    assert len(rows) == len(entries)
    nasty = rows[1]
    assert nasty["abstract"] == 'Quotes "here", commas, and\nnew lines; a_b & c.'
    assert nasty["authors"] == "Wei Zhang; O'Brien, Pat"
    assert nasty["topics"] == "LLM; C++ & Systems"
    assert "stars" not in rows[0]  # counts live in exports/stars.json
    assert rows[0]["doi"] == ""
    assert rows[3]["published"] == "1997-11-27T19:07:34Z"


def test_csv_rows_end_with_crlf_outside_quoted_fields() -> None:
    text = render_csv(load_entries()[:1])
    assert text.endswith("\r\n")
    assert '"We route tokens\nto experts. Cost drops by 40% on 3 benchmarks."' in text


def test_csv_defuses_spreadsheet_formulas() -> None:
    rows = _csv_rows(render_csv(load_entries()))
    assert rows[1]["comment"] == '\'=HYPERLINK("http://evil") 12 pages'
    entry = load_entries()[0]
    minus = replace(entry, paper=replace(entry.paper, title="-1 is @odd"))
    assert _csv_rows(render_csv([minus]))[0]["title"] == "'-1 is @odd"


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def _unescaped(text: str, chars: str) -> list[str]:
    return re.findall(rf"(?<!\\)[{re.escape(chars)}]", text)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("R&D 50% #1 a_b", r"R\&D 50\% \#1 a\_b"),
        ("$x_1^2$ and $$a_b$$ and \\(c_d\\)", "$x_1^2$ and $$a_b$$ and \\(c_d\\)"),
        ("already \\& \\% \\_ fine", "already \\& \\% \\_ fine"),
        ("costs $5 now", r"costs \$5 now"),
        ("x^2 ~ y <z>", r"x\^{}2 {\textasciitilde} y \textless{}z\textgreater{}"),
        ("math with % $a%b$", r"math with \% $a\%b$"),
        ('Schr\\"odinger \\emph{cats}', 'Schr\\"odinger \\emph{cats}'),
        ("open { only", r"open \textbraceleft{} only"),
        ("close \\} only", r"close \textbraceright{} only"),
        ("wrapped\n  title\x07", "wrapped title"),
    ],
)
def test_latex_escape(raw: str, escaped: str) -> None:
    assert latex_escape(raw) == escaped


@given(st.text(alphabet=st.sampled_from("ab {}\\$&%#_^~<>\n"), max_size=40))
def test_latex_escape_always_gives_a_safe_bibtex_field(raw: str) -> None:
    out = latex_escape(raw)
    assert _balanced(out)
    assert not _unescaped(out, "&%#")
    assert "\n" not in out


def _spec_author(name: str) -> str:
    """The documented rule, name by name: escaped, braced when BibTeX would split it."""
    escaped = latex_escape(name)
    return "{" + escaped + "}" if "," in name or re.search(r"(?i)\band\b", name) else escaped


@given(
    st.lists(st.text(alphabet=st.sampled_from("aAnNdD ,{}&_\t\xa0\x07"), max_size=12), max_size=5)
)
@example(["Ben AND Jerry", "Ada"])
@example(["and"])
@example(["Ada  Lovelace", " Bob"])
def test_bibtex_author_field_follows_the_rule_name_by_name(names: list[str]) -> None:
    """The one-scan shortcut for plain author lists gives exactly the name-by-name field."""
    entry = load_entries()[0]
    entry = replace(entry, paper=replace(entry.paper, authors=tuple(names)))
    text = render_bibtex([entry], keys={entry.paper.arxiv_id: "k"})
    expected = " and ".join(_spec_author(name) for name in names)
    found = re.search(r"^  author = \{(.*)\},?$", text, re.MULTILINE)
    assert (found.group(1) if found else "") == expected


def _bib_entries(text: str) -> dict[str, str]:
    return dict(re.findall(r"@misc\{([^,]+),\n(.*?)\n\}\n", text, re.DOTALL))


def test_bibtex_records_are_complete_and_balanced(tmp_path: Path) -> None:
    entries = load_entries()
    text = render_bibtex(entries, keys=store_keys(tmp_path, entries))
    records = _bib_entries(text)
    assert list(records) == [
        "muller2024sparse",
        "zhang2024fast",
        "muller2024sparseb",
        "maldacena1997large",
        "friends2024seeing",
    ]
    assert _balanced(text)
    maldacena = records["maldacena1997large"]
    assert "  eprint = {hep-th/9711200}" in maldacena
    assert "  archivePrefix = {arXiv}" in maldacena
    assert "  primaryClass = {hep-th}" in maldacena
    assert "  doi = {10.1023/A:1026654312961}" in maldacena
    assert "  url = {https://arxiv.org/abs/hep-th/9711200}" in maldacena
    assert "  author = {{ATLAS Collaboration and Friends} and 李华}" in records["friends2024seeing"]
    assert "  author = {Wei Zhang and {O'Brien, Pat}}" in records["zhang2024fast"]
    title = re.search(r"title = \{(.*)\},", records["zhang2024fast"])
    assert title is not None
    assert not _unescaped(title.group(1), "&%#_")


def test_bibtex_keys_keep_old_papers_stable(tmp_path: Path) -> None:
    entries = load_entries()
    older_only = store_keys(tmp_path, [e for e in entries if e.paper.arxiv_id != "2405.03456"])
    everything = store_keys(tmp_path, entries)  # the newer namesake joins the same store
    assert len(set(everything.values())) == len(entries)
    # Adding the newer namesake gave it the suffix; the older paper kept its key.
    assert older_only["2405.01234"] == everything["2405.01234"] == "muller2024sparse"
    assert everything["2405.03456"] == "muller2024sparseb"


def test_bibtex_keys_stay_unique_for_many_namesakes(tmp_path: Path) -> None:
    entry = load_entries()[2]
    namesakes = [
        replace(entry, paper=replace(entry.paper, arxiv_id=f"2405.{10000 + i}")) for i in range(30)
    ]
    found = store_keys(tmp_path, namesakes)
    keys = [found[e.paper.arxiv_id] for e in namesakes]
    assert len(set(keys)) == 30
    assert keys[:3] == ["muller2024sparse", "muller2024sparseb", "muller2024sparsec"]
    assert keys[26:28] == ["muller2024sparseaa", "muller2024sparseab"]
    assert all(re.fullmatch(r"[a-z0-9]+", key) for key in keys)


def test_bibtex_key_falls_back_when_names_and_titles_have_no_latin_letters() -> None:
    published = load_entries()[0].paper.published
    assert bibtex_stem("李华", "$E=mc^2$ 的 研究", published) == "anon2024"


def test_bibtex_rejects_keys_that_miss_a_paper(tmp_path: Path) -> None:
    entries = load_entries()
    with pytest.raises(ValueError, match=r"2405\.04567"):
        render_bibtex(entries, keys=store_keys(tmp_path, entries[:4]))


def test_bibtex_lists_a_paper_once_and_empty_input_is_empty() -> None:
    entry = load_entries()[0]
    keys = {entry.paper.arxiv_id: "lovelace2024notes"}
    assert render_bibtex([entry, entry], keys=keys).count("@misc{") == 1
    assert render_bibtex([], keys={}) == ""


def test_exports_accept_one_shot_iterators() -> None:
    entries: list[Entry] = load_entries()
    keys = {e.paper.arxiv_id: f"key{n}" for n, e in enumerate(entries)}
    assert render_bibtex(iter(entries), keys=keys) == render_bibtex(entries, keys=keys)
    assert render_csv(iter(entries)) == render_csv(entries)
