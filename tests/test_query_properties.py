from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from arxiv_radar.errors import QuerySyntaxError
from arxiv_radar.paper import Paper
from arxiv_radar.query import FIELDS, And, AndNot, Document, Or, Query, Term, parse, tokenize

MODEST = settings(max_examples=200, deadline=None)
WHEN = datetime(2026, 3, 2, tzinfo=timezone.utc)

VOCABULARY = (
    "gaussian",
    "Gaussians",
    "splatting",
    "3D",
    "model",
    "models",
    "process",
    "processes",
    "vision-language",
    "Schrödinger",
    "schrodinger",
    "avatar",
    "game",
    "and",
    "$\\mathcal{O}(n)$",
)
NAMES = ("Geoffrey E. Hinton", "Adrian Del Maestro", "Yann LeCun", "Jürgen Schmidhuber")
CATEGORIES = ("cs.CV", "cs.GR", "math.OC", "hep-th")
TERM_TEXTS = (
    "gaussian",
    "gaussian splatting",
    "3D gaussian",
    "Models",
    "vision-language",
    "schrödinger",
    "del_maestro",
    "geoffrey hinton",
    "hinton",
    "cs.CV",
    "cs.",
    "hep-th",
    "AND",
    "and",
    "a(b",
    "x:y",
    "o n",
)
QUERY_PIECES = (
    "AND", "OR", "ANDNOT", "and", "(", ")", '"', "*", "ti:", "abs:", "tit:", "au:", "cat:",
    "all:", "cs.*", "gaussian", "3D", "-", "_", "x", " ", " ", "\n", "é", "$\\alpha$", ":",
)  # fmt: skip


def _valid_term(field: str, text: str, wildcard: bool) -> Term | None:
    try:
        return Term(field, text, wildcard)
    except ValueError:
        return None


@st.composite
def terms(draw: st.DrawFn) -> Term:
    field = draw(st.sampled_from(FIELDS))
    text = draw(st.sampled_from(TERM_TEXTS) | st.text(min_size=1, max_size=10))
    term = _valid_term(field, text, draw(st.booleans()))
    if term is None:
        term = Term(field, draw(st.sampled_from(TERM_TEXTS)))
    return term


def _pair(children: st.SearchStrategy[Query]) -> st.SearchStrategy[Query]:
    several = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        several.map(And),
        several.map(Or),
        st.tuples(children, children).map(lambda pair: AndNot(*pair)),
    )


queries = st.recursive(terms(), _pair, max_leaves=6)


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    def words(size: int) -> str:
        return " ".join(draw(st.lists(st.sampled_from(VOCABULARY), max_size=size)))

    categories = tuple(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2)))
    return Paper(
        arxiv_id="2603.01234",
        version=1,
        title=words(6),
        authors=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=2))),
        abstract=words(12),
        categories=categories,
        primary_category=categories[0],
        published=WHEN,
        updated=WHEN,
        comment=words(3),
        journal_ref=words(2),
    )


query_texts = st.text(max_size=120) | st.lists(st.sampled_from(QUERY_PIECES), max_size=25).map(
    "".join
)


@MODEST
@given(query_texts)
def test_any_text_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        query = parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.query == text
        assert error.fix
    else:
        assert parse(str(query)) == query


@MODEST
@given(queries)
def test_str_parses_back_to_the_same_tree(query: Query) -> None:
    assert parse(str(query)) == query


@MODEST
@given(queries, st.lists(papers(), min_size=1, max_size=3))
def test_api_text_parses_back_and_evaluates_the_same(query: Query, sample: list[Paper]) -> None:
    again = parse(query.to_api())
    for paper in sample:
        assert again.matches(paper) == query.matches(paper)
        assert query.matches_document(Document(paper)) == query.matches(paper)


@MODEST
@given(queries, papers())
def test_operators_follow_boolean_logic(query: Query, paper: Paper) -> None:
    document = Document(paper)
    result = query.matches_document(document)
    if isinstance(query, And):
        assert result == all(part.matches_document(document) for part in query.parts)
    elif isinstance(query, Or):
        assert result == any(part.matches_document(document) for part in query.parts)
    elif isinstance(query, AndNot):
        left, right = query.left.matches_document(document), query.right.matches_document(document)
        assert result == (left and not right)


def _phrase_like(text: str) -> bool:
    return bool(tokenize(text)) and '"' not in text and "*" not in text


@MODEST
@given(st.text(min_size=1, max_size=40).filter(_phrase_like))
def test_a_phrase_always_finds_itself(text: str) -> None:
    paper = Paper(
        arxiv_id="2603.01234",
        version=1,
        title=text,
        authors=(text,),
        abstract="",
        categories=("cs.CV",),
        primary_category="cs.CV",
        published=WHEN,
        updated=WHEN,
    )
    assert Term("ti", text).matches(paper)
    assert Term("au", text).matches(paper)
    assert Term("all", text).matches(paper)
    assert not Term("abs", text).matches(paper)
