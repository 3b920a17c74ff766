"""The topic query language: arXiv's search syntax, parsed once and evaluated locally.

Syntax (as on arXiv): field prefixes ``ti:`` title, ``abs:`` abstract, ``au:`` authors, ``co:``
comment, ``jr:`` journal reference, ``cat:`` categories and ``all:`` (all of those); a bare term
means ``all:``. A term is a word (``abs:NeRF``) or a double-quoted phrase (``ti:"gaussian
splatting"``); a trailing ``*`` on a word is a prefix wildcard (``ti:diffus*``, ``cat:cs.*``).
``AND``, ``OR`` and ``ANDNOT`` (upper case only; ``and``/``or`` are plain words) combine terms;
two terms side by side mean ``AND``; ``AND``/``ANDNOT`` bind tighter than ``OR``; all are
left-associative; parentheses group.

Matching semantics (chosen to be predictable, not clever):

* Text is normalised the same way in queries and papers: a few LaTeX constructs are undone
  (accent commands such as ``Schr\\"odinger`` become the plain letter; style commands such as
  ``\\mathcal`` or ``\\emph`` are dropped, other commands such as ``\\alpha`` count as the word
  ``alpha``), then Unicode NFKD, accents stripped, case folded (so ``Schrödinger`` matches
  ``schrodinger``). Tokens are runs of letters and digits; everything else separates them, so
  ``vision-language`` equals ``vision language`` and ``$\\mathcal{O}(n)$`` gives ``o n``.
* A word matches a token equal to it or to its plural with ``s``/``es``, and the reverse
  (``ti:models`` matches "model"). A word that normalises to several tokens (``vision-language``)
  is a phrase. A phrase matches when its tokens occur consecutively in one field, each with the
  same plural tolerance. A wildcard makes its last token a prefix match (``ti:diffus*``).
* ``au:`` looks at one author name at a time: the tokens must occur in that name, in order,
  consecutively except that single-letter tokens of the name (middle initials) may sit between
  them. Names get no plural tolerance. So ``au:hinton`` and ``au:"geoffrey hinton"`` both match
  "Geoffrey E. Hinton" but ``au:"hinton geoffrey"`` does not. ``_`` is a space (``au:del_maestro``).
* ``cat:`` compares the whole text, case-insensitively, with each category of the paper:
  ``cat:cs.CV`` exactly, ``cat:cs.*`` as a prefix. ``cat:cs`` alone matches no category.
* ``all:`` matches when any of the six fields matches under that field's rules.

Matching tokenises a paper's fields once (see :class:`Document`), so evaluating many topics over
many papers costs one tokenisation per paper plus a set look-up or a regex search per term.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import NamedTuple

from arxiv_radar.errors import QuerySyntaxError
from arxiv_radar.paper import Paper

__all__ = [
    "FIELDS",
    "MAX_QUERY_LENGTH",
    "And",
    "AndNot",
    "Document",
    "Or",
    "Query",
    "Term",
    "all_of",
    "any_of",
    "any_phrase",
    "exclude",
    "parse",
    "tokenize",
    "topics_for",
]

FIELDS = ("ti", "abs", "au", "co", "jr", "cat", "all")
MAX_QUERY_LENGTH = 2000
_MAX_NESTING = 50
_ALL_FIELDS = ("ti", "abs", "au", "co", "jr", "cat")
_OPERATORS = ("AND", "OR", "ANDNOT")
_FIELD_FIX = "use one of " + ", ".join(f"{name}:" for name in FIELDS)

# --- normalisation ----------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W_]+")
_LATEX_ACCENT_RE = re.compile(r"\{?\\(?:[`'^\"~=.]\s*|[uvHckbdrt](?=\{))\{?\s*([A-Za-z])\s*\}?\}?")
_LATEX_STYLE_RE = re.compile(
    r"\\(?:math[a-z]*|text[a-z]*|emph|operatorname|boldsymbol|bm|mbox|rm|bf|it|sf|tt|cal|frak)"
    r"(?![A-Za-z])"
)


# Combining marks that NFKD splits off accented letters (Latin, Greek, Cyrillic, kana voicing).
# Marks of other scripts stay; being neither letters nor digits they separate tokens, the same
# way in queries and papers.
_MARKS_RE = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]+"
)


def _fold(text: str) -> str:
    """Accent-insensitive, case-folded form; ASCII (most abstracts) skips the Unicode work."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _MARKS_RE.sub("", decomposed).casefold()


def _unlatex(text: str) -> str:
    """Undo the LaTeX that would otherwise split words (``Schr\\"odinger``) or add noise words."""
    if "\\" not in text:
        return text
    return _LATEX_STYLE_RE.sub(" ", _LATEX_ACCENT_RE.sub(r"\1", text))


# ASCII letters and digits to lower case, every other ASCII character to a space.
_ASCII_TOKENS = str.maketrans(
    {code: chr(code).lower() if chr(code).isalnum() else " " for code in range(128)}
)


def tokenize(text: str) -> list[str]:
    """The normalised tokens of ``text``, exactly as matching sees them (queries and papers)."""
    if not text:
        return []
    folded = _fold(_unlatex(text))
    if folded.isascii():  # str.translate is several times faster than a regex here
        return folded.translate(_ASCII_TOKENS).split()
    return _TOKEN_RE.findall(folded)


def _variants(token: str) -> frozenset[str]:
    """Every token a query word matches: itself, its plurals, and its singular if it is plural."""
    forms = {token, token + "s", token + "es"}
    for suffix in ("s", "es"):
        if token.endswith(suffix) and len(token) > len(suffix):
            forms.add(token[: -len(suffix)])
    return frozenset(forms)


# --- documents --------------------------------------------------------------------------------


class _Field(NamedTuple):
    """One field's tokens, space-joined for regexes (authors split by ``|``) and as a set."""

    joined: str
    tokens: frozenset[str]


def _index(texts: Sequence[str]) -> _Field:
    if len(texts) != 1:
        joined = " " + " | ".join(" ".join(tokenize(text)) for text in texts) + " "
        return _Field(joined, frozenset(joined.split()))
    tokens = tokenize(texts[0])
    return _Field(" " + " ".join(tokens) + " ", frozenset(tokens))


_ATTRIBUTES = {"ti": "title", "abs": "abstract", "co": "comment", "jr": "journal_ref"}


class Document:
    """A paper's fields tokenised once, lazily, field by field, and shared by every query.

    Build one per paper when matching many topics (:func:`topics_for` does); ``Query.matches``
    keeps a small cache of recent documents for convenience.
    """

    __slots__ = ("_fields", "categories", "paper")

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.categories = frozenset(category.lower() for category in paper.categories)
        self._fields: dict[str, _Field] = {}

    def field(self, name: str) -> _Field:
        cached = self._fields.get(name)
        if cached is None:
            cached = self._fields[name] = _index(self._texts(name))
        return cached

    def _texts(self, name: str) -> Sequence[str]:
        if name == "au":
            return self.paper.authors
        return (getattr(self.paper, _ATTRIBUTES[name]),)


@functools.lru_cache(maxsize=1024)
def _document(paper: Paper) -> Document:
    return Document(paper)


# --- the AST ----------------------------------------------------------------------------------


class Query(ABC):
    """A parsed query: plain immutable data that can be matched, printed and sent to arXiv."""

    def matches(self, paper: Paper) -> bool:
        return self.matches_document(_document(paper))

    @abstractmethod
    def matches_document(self, document: Document) -> bool:
        """Match against an already tokenised paper (the fast path for many topics)."""

    @abstractmethod
    def to_api(self) -> str:
        """The arXiv API ``search_query``, every sub-expression parenthesised."""

    @abstractmethod
    def __str__(self) -> str:
        """Canonical text, parenthesised only where needed: ``parse(str(q)) == q``."""


def _text_problem(text: str) -> tuple[int, str, str] | None:
    """What makes ``text`` unusable as a term: (offset in text, message, fix), or None."""
    star = text.find("*")
    if star != -1:
        return star, 'wildcard "*" is only allowed at the end of a word', "write e.g. ti:diffus*"
    if '"' in text:
        return text.index('"'), "a term cannot contain a double quote", "remove the quote"
    if not text.strip():
        return 0, "empty phrase", "put words between the quotes or remove them"
    if not tokenize(text):
        return 0, f"term {text!r} has no letters or digits", "search for words or numbers"
    return None


def _one_word(text: str) -> bool:
    """True when the lexer would read ``text`` as a single unquoted word."""
    return not any(char.isspace() or char in '()"' for char in text)


_Check = Callable[[Document], bool]


def _category_check(text: str, wildcard: bool) -> _Check:
    key = text.lower()
    if wildcard:
        return lambda document: any(category.startswith(key) for category in document.categories)
    return lambda document: key in document.categories


def _phrase_check(name: str, tokens: Sequence[str], wildcard: bool) -> _Check:
    """Compile the tokens into the cheapest test: a set look-up, a substring, or a regex."""
    author = name == "au"
    exact = [frozenset((token,)) if author else _variants(token) for token in tokens]
    if wildcard:
        exact.pop()
    if not wildcard and len(tokens) == 1:
        forms = exact[0]
        return lambda document: not forms.isdisjoint(document.field(name).tokens)
    if wildcard and len(tokens) == 1:
        prefix = " " + tokens[0]
        return lambda document: prefix in document.field(name).joined
    parts = ["(?:" + "|".join(map(re.escape, sorted(forms))) + ")" for forms in exact]
    if wildcard:
        parts.append(re.escape(tokens[-1]) + "[^ ]*")
    pattern = re.compile(" " + ("(?: [^ |])* " if author else " ").join(parts) + " ")

    def check(document: Document) -> bool:
        field = document.field(name)
        present = all(not forms.isdisjoint(field.tokens) for forms in exact)
        return present and pattern.search(field.joined) is not None

    return check


@dataclass(frozen=True)
class Term(Query):
    """One field-prefixed word or phrase. ``text`` is as the user wrote it, without quotes/``*``."""

    field: str
    text: str
    wildcard: bool = False

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field {self.field!r}; {_FIELD_FIX}")
        problem = _text_problem(self.text)
        if problem is not None:
            raise ValueError(f"{problem[1]}: {self.text!r}")
        if self.wildcard and not _one_word(self.text):
            raise ValueError(f"a wildcard applies to one word, not to {self.text!r}")

    @functools.cached_property
    def _checks(self) -> tuple[_Check, ...]:
        """One compiled test per searched field, built on first use and kept with the term."""
        names = _ALL_FIELDS if self.field == "all" else (self.field,)
        tokens = tokenize(self.text)
        return tuple(
            _category_check(self.text, self.wildcard)
            if name == "cat"
            else _phrase_check(name, tokens, self.wildcard)
            for name in names
        )

    def matches_document(self, document: Document) -> bool:
        return any(check(document) for check in self._checks)

    def to_api(self) -> str:
        safe = r"[\w.\-]+" if self.field == "cat" else r"[\w.]+"
        bare = self.wildcard or (
            self.text not in _OPERATORS and re.fullmatch(safe, self.text) is not None
        )
        text = self.text if bare else f'"{self.text}"'
        return f"{self.field}:{text}{'*' if self.wildcard else ''}"

    def __str__(self) -> str:
        text = self.text if _one_word(self.text) else f'"{self.text}"'
        return f"{self.field}:{text}{'*' if self.wildcard else ''}"


def _child(query: Query, bare: tuple[type[Query], ...] = (Term,)) -> str:
    """A sub-query's text, parenthesised unless the grammar rebuilds the same tree without."""
    return str(query) if isinstance(query, bare) else f"({query})"


def _check_parts(kind: str, parts: tuple[Query, ...]) -> None:
    if not isinstance(parts, tuple) or len(parts) < 2:
        raise ValueError(f"{kind} needs a tuple of at least two queries, got {parts!r}")


@dataclass(frozen=True)
class And(Query):
    """All parts match. n-ary so long implicit-AND chains stay shallow."""

    parts: tuple[Query, ...]

    def __post_init__(self) -> None:
        _check_parts("And", self.parts)

    def matches_document(self, document: Document) -> bool:
        return all(part.matches_document(document) for part in self.parts)

    def to_api(self) -> str:
        return "(" + " AND ".join(part.to_api() for part in self.parts) + ")"

    def __str__(self) -> str:
        first, *rest = self.parts
        return " AND ".join([_child(first, (Term, AndNot)), *map(_child, rest)])


@dataclass(frozen=True)
class Or(Query):
    """Any part matches."""

    parts: tuple[Query, ...]

    def __post_init__(self) -> None:
        _check_parts("Or", self.parts)

    def matches_document(self, document: Document) -> bool:
        return any(part.matches_document(document) for part in self.parts)

    def to_api(self) -> str:
        return "(" + " OR ".join(part.to_api() for part in self.parts) + ")"

    def __str__(self) -> str:
        return " OR ".join(_child(part, (Term, And, AndNot)) for part in self.parts)


@dataclass(frozen=True)
class AndNot(Query):
    """``left`` matches and ``right`` does not (arXiv's binary ``ANDNOT``)."""

    left: Query
    right: Query

    def matches_document(self, document: Document) -> bool:
        return self.left.matches_document(document) and not self.right.matches_document(document)

    def to_api(self) -> str:
        return f"({self.left.to_api()} ANDNOT {self.right.to_api()})"

    def __str__(self) -> str:
        return f"{_child(self.left, (Term, And, AndNot))} ANDNOT {_child(self.right)}"


# --- lexer ------------------------------------------------------------------------------------

_FIELD_RE = re.compile(r"([A-Za-z]+):")


class _Token(NamedTuple):
    kind: str  # "term", "(", ")", "AND", "OR", "ANDNOT", "end"
    pos: int
    term: Term | None = None


def _error(text: str, pos: int, message: str, fix: str) -> QuerySyntaxError:
    return QuerySyntaxError(f"{message} at position {pos}", query=text, position=pos, fix=fix)


def _field_name(text: str, pos: int, prefix: str) -> str:
    name = prefix.lower()
    if name in FIELDS:
        return name
    close = get_close_matches(name, FIELDS, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}:? " if close else ""
    raise _error(text, pos, f'unknown field "{prefix}:"', hint + _FIELD_FIX)


def _checked_term(text: str, field: str, body: str, body_pos: int, wildcard: bool) -> Term:
    problem = _text_problem(body)
    if problem is not None:
        offset, message, fix = problem
        raise _error(text, body_pos + offset, message, fix)
    return Term(field, body, wildcard)


def _lex_phrase(text: str, quote: int, field: str, start: int) -> tuple[_Token, int]:
    close = text.find('"', quote + 1)
    if close == -1:
        raise _error(text, quote, "unterminated quote", 'add the closing "')
    body = text[quote + 1 : close]
    if not body.strip():
        raise _error(text, quote, "empty phrase", "put words between the quotes or remove them")
    term = _checked_term(text, field, body, quote + 1, wildcard=False)
    return _Token("term", start, term), close + 1


def _lex_word(text: str, start: int) -> tuple[_Token, int]:
    end = start
    while end < len(text) and not (text[end].isspace() or text[end] in '()"'):
        end += 1
    run = text[start:end]
    if run in _OPERATORS:
        return _Token(run, start), end
    field, body_pos = "all", start
    prefix = _FIELD_RE.match(run)
    if prefix is not None:
        field, body_pos = _field_name(text, start, prefix.group(1)), start + prefix.end()
        if body_pos == end:
            if text.startswith('"', end):
                return _lex_phrase(text, end, field, start)
            fix = f'write the term right after the colon: {field}:word or {field}:"two words"'
            raise _error(text, start, f'missing term after "{run}"', fix)
    body = text[body_pos:end]
    wildcard = body.endswith("*")
    if wildcard and len(body) == 1:
        fix = "write the word before it, e.g. ti:diffus*; phrases cannot take wildcards"
        raise _error(text, body_pos, 'wildcard "*" must follow a word', fix)
    body = body[:-1] if wildcard else body
    return _Token("term", start, _checked_term(text, field, body, body_pos, wildcard)), end


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in "()":
            token, pos = _Token(char, pos), pos + 1
        elif char == '"':
            token, pos = _lex_phrase(text, pos, "all", pos)
        else:
            token, pos = _lex_word(text, pos)
        tokens.append(token)
    tokens.append(_Token("end", len(text)))
    return tokens


# --- parser -----------------------------------------------------------------------------------


def _conjunction(parts: list[Query]) -> Query:
    return parts[0] if len(parts) == 1 else And(tuple(parts))


class _Parser:
    """Recursive descent over the token list; recursion only for parentheses, which are capped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.index = 0
        self.previous: _Token | None = None

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        self.previous = self.tokens[self.index]
        self.index += 1
        return self.previous

    def parse(self) -> Query:
        query = self.disjunction(0)
        token = self.peek()
        if token.kind != "end":
            fix = 'remove it or add a matching "(" before it'
            raise _error(self.text, token.pos, 'unmatched ")"', fix)
        return query

    def disjunction(self, depth: int) -> Query:
        parts = [self.conjunction(depth)]
        while self.peek().kind == "OR":
            self.advance()
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, depth: int) -> Query:
        parts = [self.primary(depth)]
        while (kind := self.peek().kind) in ("term", "(", "AND", "ANDNOT"):
            if kind in ("AND", "ANDNOT"):
                self.advance()
            operand = self.primary(depth)
            if kind == "ANDNOT":
                parts = [AndNot(_conjunction(parts), operand)]
            else:
                parts.append(operand)
        return _conjunction(parts)

    def primary(self, depth: int) -> Query:
        token = self.peek()
        if token.kind == "term" and token.term is not None:
            self.advance()
            return token.term
        if token.kind == "(":
            return self.group(token, depth)
        raise self.missing_operand(token)

    def group(self, opening: _Token, depth: int) -> Query:
        if depth >= _MAX_NESTING:
            fix = "simplify the query"
            raise _error(
                self.text, opening.pos, f"more than {_MAX_NESTING} nested parentheses", fix
            )
        self.advance()
        if self.peek().kind == ")":
            raise _error(
                self.text, opening.pos, "empty parentheses", "put a term inside or remove them"
            )
        inner = self.disjunction(depth + 1) if self.peek().kind != "end" else None
        if inner is None or self.peek().kind != ")":
            raise _error(self.text, opening.pos, 'unclosed "("', 'add the matching ")"')
        self.advance()
        return inner

    def missing_operand(self, token: _Token) -> QuerySyntaxError:
        previous = self.previous
        if previous is not None and previous.kind in _OPERATORS:
            message = f'operator "{previous.kind}" has no right operand'
            return _error(self.text, previous.pos, message, f"put a term after {previous.kind}")
        if token.kind in _OPERATORS:
            fix = f'put a term before {token.kind}, or write "{token.kind}" to search the word'
            return _error(self.text, token.pos, f'operator "{token.kind}" has no left operand', fix)
        if token.kind == ")":
            fix = 'remove it or add a matching "(" before it'
            return _error(self.text, token.pos, 'unmatched ")"', fix)
        return _error(self.text, 0, "empty query", 'write at least one term, e.g. ti:"diffusion"')


def parse(text: str) -> Query:
    """Parse a query in arXiv syntax; raise QuerySyntaxError naming the position of a mistake."""
    if len(text) > MAX_QUERY_LENGTH:
        message = f"query is {len(text)} characters long, more than {MAX_QUERY_LENGTH}"
        fix = "shorten it or split it into several topics"
        raise _error(text, MAX_QUERY_LENGTH, message, fix)
    return _Parser(text).parse()


# --- helpers ----------------------------------------------------------------------------------


def _flatten(kind: type[And] | type[Or], queries: Sequence[Query]) -> Query:
    if not queries:
        raise ValueError(f"{kind.__name__} needs at least one query")
    parts: list[Query] = []
    for query in queries:
        parts.extend(query.parts if isinstance(query, kind) else (query,))
    return parts[0] if len(parts) == 1 else kind(tuple(parts))


def all_of(*queries: Query) -> Query:
    """Every query must match (nested ANDs are flattened)."""
    return _flatten(And, queries)


def any_of(*queries: Query) -> Query:
    """At least one query must match (nested ORs are flattened)."""
    return _flatten(Or, queries)


def exclude(query: Query, excluded: Query) -> Query:
    """``query ANDNOT excluded``."""
    return AndNot(query, excluded)


def _keyword_term(phrase: str, field: str) -> Term:
    """One cv-arxiv-daily keyword as a term: surrounding quotes dropped, ``word*`` a wildcard."""
    lead = len(phrase) - len(phrase.lstrip())
    body = phrase.strip()
    if len(body) >= 2 and body[0] == body[-1] == '"':
        body, lead = body[1:-1], lead + 1
    wildcard = body.endswith("*") and _one_word(body)
    body = body[:-1] if wildcard else body
    if wildcard and not body:
        raise _error(phrase, lead, 'wildcard "*" must follow a word', "write e.g. diffus*")
    return _checked_term(phrase, field, body, lead, wildcard)


def any_phrase(phrases: Sequence[str], fields: Sequence[str] = ("ti", "abs")) -> Query:
    """cv-arxiv-daily style keywords: match when any phrase occurs in any of ``fields``."""
    if isinstance(phrases, str) or not phrases:
        raise _error(str(phrases), 0, "no keywords given", "list at least one keyword phrase")
    for field in fields:
        if field not in FIELDS:
            raise _error(field, 0, f'unknown field "{field}"', _FIELD_FIX)
    if not fields:
        raise _error("", 0, "no fields given", _FIELD_FIX)
    return any_of(*(_keyword_term(phrase, field) for phrase in phrases for field in fields))


def topics_for(paper: Paper, topics: Mapping[str, Query]) -> tuple[str, ...]:
    """Names of the topics whose query matches ``paper``, tokenising the paper once."""
    document = Document(paper)
    return tuple(name for name, query in topics.items() if query.matches_document(document))
