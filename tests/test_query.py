from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arxiv_radar.errors import QuerySyntaxError, UserError
from arxiv_radar.paper import Paper
from arxiv_radar.query import (
    And,
    AndNot,
    Document,
    Or,
    Query,
    Term,
    all_of,
    any_of,
    any_phrase,
    exclude,
    parse,
    tokenize,
    topics_for,
)

WHEN = datetime(2026, 3, 2, tzinfo=timezone.utc)


def paper(
    *,
    title: str = "A title",
    abstract: str = "An abstract.",
    authors: tuple[str, ...] = ("Ada Lovelace",),
    categories: tuple[str, ...] = ("cs.CV",),
    comment: str = "",
    journal_ref: str = "",
) -> Paper:
    return Paper(
        arxiv_id="2603.01234",
        version=1,
        title=title,
        authors=authors,
        abstract=abstract,
        categories=categories,
        primary_category=categories[0],
        published=WHEN,
        updated=WHEN,
        comment=comment,
        journal_ref=journal_ref,
    )


def t(field: str, text: str, wildcard: bool = False) -> Term:
    return Term(field, text, wildcard)


SPLAT = paper(
    title="Gaussian Splatting for Real-Time Radiance Field Rendering",
    abstract="We render 3D Gaussians in real time.",
    authors=("Bernhard Kerbl", "Georgios Kopanas"),
    categories=("cs.GR", "cs.CV"),
)
AVATAR = paper(title="Animatable avatars from a single video", abstract="We build avatars.")
GAME = paper(title="Avatar behaviour in online games", abstract="A game study.")


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ti:word", t("ti", "word")),
        ("abs:NeRF", t("abs", "NeRF")),
        ("au:del_maestro", t("au", "del_maestro")),
        ("co:accepted", t("co", "accepted")),
        ("jr:Nature", t("jr", "Nature")),
        ("cat:cs.CV", t("cat", "cs.CV")),
        ("all:avatar", t("all", "avatar")),
        ("avatar", t("all", "avatar")),
        ('ti:"gaussian splatting"', t("ti", "gaussian splatting")),
        ('"gaussian splatting"', t("all", "gaussian splatting")),
        ("ti:diffus*", t("ti", "diffus", wildcard=True)),
        ("cat:cs.*", t("cat", "cs.", wildcard=True)),
        ("TI:word", t("ti", "word")),
        ("and", t("all", "and")),
        ("ti:AND", t("ti", "AND")),
        ('ti:"a (b) c"', t("ti", "a (b) c")),
        ("ti:a:b", t("ti", "a:b")),
        ("10:30", t("all", "10:30")),
    ],
)
def test_parses_each_term_form(text: str, expected: Term) -> None:
    assert parse(text) == expected


def test_a_quoted_single_word_is_the_same_term_as_the_bare_word() -> None:
    assert parse('ti:"nerf"') == parse("ti:nerf")


def test_operators_and_juxtaposition() -> None:
    a, b, c = t("all", "a"), t("all", "b"), t("all", "c")
    assert parse("a AND b") == And((a, b))
    assert parse("a b") == And((a, b))
    assert parse("a OR b") == Or((a, b))
    assert parse("a ANDNOT b") == AndNot(a, b)
    assert parse("a AND b c") == And((a, b, c))
    assert parse("a OR b OR c") == Or((a, b, c))


def test_and_binds_tighter_than_or() -> None:
    a, b, c, d = (t("all", x) for x in "abcd")
    assert parse("a OR b AND c") == Or((a, And((b, c))))
    assert parse("a AND b OR c AND d") == Or((And((a, b)), And((c, d))))
    assert parse("a OR b ANDNOT c") == Or((a, AndNot(b, c)))


def test_left_associativity_of_andnot() -> None:
    a, b, c, d = (t("all", x) for x in "abcd")
    assert parse("a ANDNOT b ANDNOT c") == AndNot(AndNot(a, b), c)
    assert parse("a AND b ANDNOT c AND d") == And((AndNot(And((a, b)), c), d))


def test_parentheses_group_and_are_not_merged_into_the_outer_chain() -> None:
    a, b, c = t("all", "a"), t("all", "b"), t("all", "c")
    assert parse("(a OR b) c") == And((Or((a, b)), c))
    assert parse("a ANDNOT (b OR c)") == AndNot(a, Or((b, c)))
    assert parse("(a AND b) AND c") == And((And((a, b)), c))
    assert parse("((a))") == a


def test_lowercase_operators_are_words() -> None:
    assert parse("black and white") == And((t("all", "black"), t("all", "and"), t("all", "white")))


def test_whitespace_of_any_kind_separates() -> None:
    assert parse("\ta\n OR\u00a0b ") == Or((t("all", "a"), t("all", "b")))


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("(a OR b", 0, 'unclosed "("'),
        ("a (b (c)", 2, 'unclosed "("'),
        ("(", 0, 'unclosed "("'),
        ("a OR b)", 6, 'unmatched ")"'),
        (")", 0, 'unmatched ")"'),
        ("a ()", 2, "empty parentheses"),
        ('ti:"gaussian', 3, "unterminated quote"),
        ('a "', 2, "unterminated quote"),
        ("tit:x", 0, 'unknown field "tit:"'),
        ("a title:x", 2, 'unknown field "title:"'),
        ("a AND", 2, 'operator "AND" has no right operand'),
        ("a AND OR b", 2, 'operator "AND" has no right operand'),
        ("(a OR) b", 3, 'operator "OR" has no right operand'),
        ("AND a", 0, 'operator "AND" has no left operand'),
        ("a (ANDNOT b)", 3, 'operator "ANDNOT" has no left operand'),
        ("a OR", 2, 'operator "OR" has no right operand'),
        ('ti:""', 3, "empty phrase"),
        ('x "  "', 2, "empty phrase"),
        ("ti:", 0, 'missing term after "ti:"'),
        ("ti: word", 0, 'missing term after "ti:"'),
        ("ti:dif*us", 6, 'wildcard "*" is only allowed at the end'),
        ('ti:"diffus* model"', 10, 'wildcard "*" is only allowed at the end'),
        ("a *", 2, 'wildcard "*" must follow a word'),
        ('ti:"x"*', 6, 'wildcard "*" must follow a word'),
        ("ti:--", 3, "has no letters or digits"),
        ("(" * 51 + "a" + ")" * 51, 50, "nested parentheses"),
    ],
)
def test_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    error = caught.value
    assert fragment in error.message
    assert error.position == position
    assert f"at position {position}" in error.message
    assert error.query == text
    assert error.fix
    assert isinstance(error, UserError)


def test_unknown_field_suggests_the_closest_and_lists_all() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("tit:x")
    assert caught.value.message == 'unknown field "tit:" at position 0'
    assert "did you mean ti:?" in caught.value.fix
    assert "use one of ti:, abs:, au:, co:, jr:, cat:, all:" in caught.value.fix


def test_too_long_query_is_rejected_at_the_limit() -> None:
    long_query = " OR ".join(["word"] * 401)
    assert len(long_query) > 2000
    with pytest.raises(QuerySyntaxError) as caught:
        parse(long_query)
    assert caught.value.position == 2000
    parse("a" * 2000)  # exactly at the limit is fine


def test_pointer_marks_the_offending_character() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("ti:x OR tit:y")
    assert caught.value.pointer() == "ti:x OR tit:y\n        ^"


def test_fifty_nested_parentheses_are_allowed() -> None:
    assert parse("(" * 50 + "a" + ")" * 50) == t("all", "a")


def test_a_long_chain_of_terms_stays_flat() -> None:
    query = parse(" ".join(f"w{i % 10}" for i in range(600)))
    assert isinstance(query, And)
    assert len(query.parts) == 600
    assert not query.matches(paper(title="w1 w2"))


def test_the_longest_andnot_chain_matches_renders_and_parses_back() -> None:
    text = "all:a" + " ANDNOT all:a" * 153
    assert len(text) <= 2000
    query = parse(text)
    assert query.matches(paper(title="b")) is False
    assert str(query) == text
    assert parse(str(query)) == query
    assert query.to_api().startswith("(" * 153 + "all:a ANDNOT all:a)")


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "api"),
    [
        (
            'ti:"gaussian splatting" OR abs:"3D gaussian"',
            '(ti:"gaussian splatting" OR abs:"3D gaussian")',
        ),
        ("all:avatar ANDNOT all:game", "(all:avatar ANDNOT all:game)"),
        ("avatar", "all:avatar"),
        ("au:del_maestro", "au:del_maestro"),
        ("ti:diffus* cat:cs.*", "(ti:diffus* AND cat:cs.*)"),
        ("cat:cs.CV OR cat:hep-th", "(cat:cs.CV OR cat:hep-th)"),
        ("ti:vision-language", 'ti:"vision-language"'),
        ("a OR b AND c", "(all:a OR (all:b AND all:c))"),
        ("a ANDNOT (b OR c) d", "((all:a ANDNOT (all:b OR all:c)) AND all:d)"),
        ('ti:"AND"', 'ti:"AND"'),
        ("abs:3.5", "abs:3.5"),
    ],
)
def test_to_api_exactly(text: str, api: str) -> None:
    assert parse(text).to_api() == api


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            'ti:"gaussian splatting" OR abs:"3D gaussian"',
            'ti:"gaussian splatting" OR abs:"3D gaussian"',
        ),
        ("avatar ANDNOT game", "all:avatar ANDNOT all:game"),
        ("a OR b c", "all:a OR all:b AND all:c"),
        ("a ANDNOT b ANDNOT c", "all:a ANDNOT all:b ANDNOT all:c"),
        ("a b ANDNOT c d", "all:a AND all:b ANDNOT all:c AND all:d"),
        ("(a b) c", "(all:a AND all:b) AND all:c"),
        ("(a OR b) OR c", "(all:a OR all:b) OR all:c"),
        ("a ANDNOT (b ANDNOT c)", "all:a ANDNOT (all:b ANDNOT all:c)"),
        ("(a OR b) ANDNOT c", "(all:a OR all:b) ANDNOT all:c"),
        ("a (b ANDNOT c)", "all:a AND (all:b ANDNOT all:c)"),
        ('ti:"a(b"', 'ti:"a(b"'),
        ("ti:vision-language*", "ti:vision-language*"),
    ],
)
def test_str_is_canonical_and_parses_back(text: str, canonical: str) -> None:
    query = parse(text)
    assert str(query) == canonical
    assert parse(str(query)) == query
    assert parse(query.to_api()) == query


# --- matching ---------------------------------------------------------------------------------


def test_issue_example_gaussian_splatting() -> None:
    query = parse('ti:"gaussian splatting" OR abs:"3D gaussian"')
    assert query.matches(SPLAT)
    only_abstract = paper(title="Fast rendering", abstract="Learning 3D gaussians from video")
    assert query.matches(only_abstract)
    assert not query.matches(paper(title="Gaussian processes", abstract="Splatting is old."))


def test_issue_example_avatar_without_games() -> None:
    query = parse("all:avatar ANDNOT all:game")
    assert query.matches(AVATAR)
    assert not query.matches(GAME)
    assert not query.matches(paper(title="Other"))


def test_matching_is_per_field() -> None:
    query = parse("ti:gaussian")
    assert query.matches(SPLAT)
    assert not query.matches(paper(title="Rendering", abstract="gaussian"))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("ti:vision-language", "A Vision Language Model", True),
        ('ti:"vision language"', "Vision-Language Models", True),
        ("ti:model", "Large Models", True),
        ("ti:models", "A model of everything", True),
        ("ti:process", "Gaussian Processes", True),
        ("ti:processes", "A Gaussian process", True),
        ("ti:model", "Modeling cats", False),
        ("ti:mode", "Model cats", False),
        ('ti:"language model"', "Languages Models", True),
        ('ti:"language model"', "Language and Models", False),
        ("ti:diffus*", "Diffusion policies", True),
        ("ti:diffus*", "Confusion", False),
        ("ti:vision-lang*", "Vision-Language-Action", True),
        ("ti:schrodinger", "The Schrödinger bridge", True),
        ("ti:schrödinger", "Schrodinger bridges", True),
        ("ti:schrodinger", 'Schr\\"odinger bridges', True),
        ("ti:SCHRÖDINGER", 'schr\\"{o}dinger', True),
        ("ti:erdos", "Erd\\H{o}s problems", True),
        ('ti:"o n"', "An $\\mathcal{O}(n)$ algorithm", True),
        ("ti:mathcal", "An $\\mathcal{O}(n)$ algorithm", False),
        ("ti:alpha", "Tuning $\\alpha$ for fun", True),
        ("ti:ideal", "Learning from \\emph{ideal} data", True),
        ("ti:nerf", "NeRF-based SLAM", True),
        ("ti:fine", "\ufb01ne tuning", True),
        ("ti:strasse", "Straße networks", True),
        ("ti:x", "x$^2$-ray", True),
        ("ti:3d", "3D scenes", True),
        ("ti:and", "black and white", True),
    ],
)
def test_text_matching(query: str, text: str, expected: bool) -> None:
    assert parse(query).matches(paper(title=text)) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("au:hinton", True),
        ("au:Hinton", True),
        ('au:"geoffrey hinton"', True),
        ('au:"geoffrey e hinton"', True),
        ('au:"hinton geoffrey"', False),
        ('au:"geoffrey lecun"', False),  # tokens from two different authors
        ("au:hint*", True),
        ("au:del_maestro", True),
        ('au:"adrian del maestro"', True),
        ("au:maestros", False),  # names get no plural tolerance
        ("au:juergen", False),
        ("au:jurgen", True),
        ("au:e", True),
    ],
)
def test_author_matching(query: str, expected: bool) -> None:
    authors = ("Geoffrey E. Hinton", "Yann LeCun", "Adrian Del Maestro", "Jürgen Schmidhuber")
    assert parse(query).matches(paper(authors=authors)) is expected


def test_author_gaps_allow_initials_only() -> None:
    query = parse('au:"geoffrey hinton"')
    assert not query.matches(paper(authors=("Geoffrey Everest Hinton",)))
    assert query.matches(paper(authors=("Geoffrey E. F. Hinton",)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat:cs.CV", True),
        ("cat:cs.cv", True),
        ("cat:CS.CV", True),
        ("cat:cs.*", True),
        ("cat:cs", False),
        ("cat:cs.C", False),
        ("cat:stat.ML", False),
        ("cat:math*", True),
        ("cat:hep-th", True),
        ("all:hep-th", True),
    ],
)
def test_category_matching(query: str, expected: bool) -> None:
    categories = ("cs.CV", "math.OC", "hep-th")
    assert parse(query).matches(paper(categories=categories)) is expected


def test_all_searches_every_field() -> None:
    assert parse("all:lovelace").matches(paper(authors=("Ada Lovelace",)))
    assert parse("all:neurips").matches(paper(comment="Accepted at NeurIPS 2025"))
    assert parse("all:nature").matches(paper(journal_ref="Nature 123 (2026)"))
    assert parse("all:cs.CV").matches(paper(categories=("cs.CV",)))
    assert parse("co:neurips").matches(paper(comment="NeurIPS"))
    assert not parse("co:neurips").matches(paper(title="NeurIPS"))
    assert parse("jr:nature").matches(paper(journal_ref="Nature"))
    assert not parse("all:zebra").matches(paper())


def test_phrases_do_not_cross_fields_or_authors() -> None:
    p = paper(title="Ends with gaussian", abstract="splatting starts here")
    assert not parse('all:"gaussian splatting"').matches(p)
    assert not parse('au:"lovelace yann"').matches(paper(authors=("Ada Lovelace", "Yann LeCun")))


def test_and_or_combinations() -> None:
    query = parse("(ti:avatar OR ti:avatars) AND abs:video ANDNOT cat:cs.GR")
    assert query.matches(paper(title="Avatars", abstract="From video", categories=("cs.CV",)))
    assert not query.matches(paper(title="Avatars", abstract="From video", categories=("cs.GR",)))
    assert not query.matches(paper(title="Avatars", abstract="From images"))


# --- helpers and documents --------------------------------------------------------------------


def test_any_phrase_builds_an_or_over_fields() -> None:
    query = any_phrase(["Gaussian Splatting", '"NeRF"', "diffus*"])
    assert query == Or(
        (
            t("ti", "Gaussian Splatting"),
            t("abs", "Gaussian Splatting"),
            t("ti", "NeRF"),
            t("abs", "NeRF"),
            t("ti", "diffus", wildcard=True),
            t("abs", "diffus", wildcard=True),
        )
    )
    assert query.to_api().startswith('(ti:"Gaussian Splatting" OR abs:"Gaussian Splatting"')
    assert query.matches(SPLAT)
    assert query.matches(paper(abstract="Diffusion models"))
    assert not query.matches(paper(title="Splatting gaussians", abstract="none"))


def test_any_phrase_with_one_phrase_and_field_is_a_term() -> None:
    assert any_phrase(["slam"], fields=("ti",)) == t("ti", "slam")


@pytest.mark.parametrize(
    ("phrases", "fields", "fragment"),
    [
        ([], ("ti",), "no keywords"),
        (["ok", "  "], ("ti",), "empty phrase"),
        (['bad "quote'], ("ti",), "double quote"),
        (["*"], ("ti",), "must follow a word"),
        (["two words*"], ("ti",), "only allowed at the end"),
        (["ok"], ("title",), 'unknown field "title"'),
        (["ok"], (), "no fields"),
    ],
)
def test_any_phrase_rejects_bad_keywords(
    phrases: list[str], fields: tuple[str, ...], fragment: str
) -> None:
    with pytest.raises(QuerySyntaxError, match=fragment):
        any_phrase(phrases, fields)


def test_all_of_any_of_exclude() -> None:
    a, b, c = t("all", "a"), t("all", "b"), t("all", "c")
    assert all_of(a) == a
    assert all_of(all_of(a, b), c) == And((a, b, c))
    assert any_of(any_of(a, b), c) == Or((a, b, c))
    assert exclude(a, b) == AndNot(a, b)
    with pytest.raises(ValueError, match="at least one"):
        all_of()


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Term("title", "x"), "unknown field"),
        (lambda: Term("ti", ""), "empty phrase"),
        (lambda: Term("ti", 'a"b'), "double quote"),
        (lambda: Term("ti", "a*"), "only allowed at the end"),
        (lambda: Term("ti", "two words", wildcard=True), "one word"),
        (lambda: And((Term("ti", "x"),)), "at least two"),
        (lambda: Or([Term("ti", "x"), Term("ti", "y")]), "tuple"),  # type: ignore[arg-type]
    ],
)
def test_invalid_nodes_cannot_be_built(build: object, fragment: str) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=fragment):
        build()


def test_topics_for_reports_matching_topic_names_in_order() -> None:
    topics: dict[str, Query] = {
        "splat": parse('ti:"gaussian splatting"'),
        "avatar": parse("avatar ANDNOT game"),
        "graphics": parse("cat:cs.GR"),
    }
    assert topics_for(SPLAT, topics) == ("splat", "graphics")
    assert topics_for(GAME, topics) == ()


def test_document_tokenises_each_field_once() -> None:
    document = Document(SPLAT)
    first = document.field("ti")
    parse('ti:"gaussian splatting" OR ti:rendering').matches_document(document)
    assert document.field("ti") is first
    assert "splatting" in first.tokens


def test_tokenize_is_the_documented_normalisation() -> None:
    assert tokenize("Vision-Language $\\mathcal{O}(n)$ Schrödinger_x") == [
        "vision",
        "language",
        "o",
        "n",
        "schrodinger",
        "x",
    ]
    assert tokenize("") == []
    assert tokenize("Ωmega") == ["ωmega"]
