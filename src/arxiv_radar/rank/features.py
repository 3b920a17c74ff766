"""Text features for ranking: TF-IDF fitted on the store, so term weights reflect this digest.

The vocabulary and inverse document frequencies come from the store's recent papers (plus the
seeds), which is why words every paper of the field uses ("model", "method") weigh little and a
topic's own terms weigh much. Everything is local: scikit-learn, no network, no model download.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["TermSpace", "categories_text", "document_text"]

# Below this many documents, terms seen once still count (tests and brand-new stores).
_SMALL_CORPUS = 200
# Words of two or more characters that start with a letter (drops numbers and stray symbols).
_CODE = r"\S+"  # a category code is one whitespace-free token
_WORD = r"(?u)\b[a-zA-Z][a-zA-Z0-9-]+\b"


def document_text(title: str, abstract: str) -> str:
    """The text a paper is compared by: the title counts twice, it is the author's summary."""
    return f"{title}. {title}. {abstract}"


def _vectorizer(documents: int, ngrams: int) -> TfidfVectorizer:
    small = documents < _SMALL_CORPUS
    return TfidfVectorizer(
        stop_words="english",
        strip_accents="unicode",
        sublinear_tf=True,
        ngram_range=(1, ngrams),
        min_df=1 if small else 2,
        max_df=1.0 if small else 0.5,
        token_pattern=_WORD,
        dtype=np.float32,
    )


def _category_vectorizer() -> TfidfVectorizer:
    """arXiv category codes as tokens: a rare category shared with the seeds says much, one
    that half the store carries says little."""
    return TfidfVectorizer(
        token_pattern=_CODE, lowercase=False, sublinear_tf=True, dtype=np.float32
    )


def categories_text(categories: Sequence[str]) -> str:
    return " ".join(categories)


class TermSpace:
    """A fitted TF-IDF space of words and one of categories; rows it returns are
    L2-normalised, so a dot product is a cosine."""

    def __init__(self, vectorizer: TfidfVectorizer, categories: TfidfVectorizer) -> None:
        self._vectorizer = vectorizer
        self._categories = categories
        self._terms: np.ndarray[Any, Any] = vectorizer.get_feature_names_out()
        codes = categories.get_feature_names_out().tolist()
        # Smooth idf = ln((1 + n) / (1 + df)) + 1, so exp(1 - idf) = (1 + df) / (1 + n).
        self._share = dict(zip(codes, np.exp(1 - categories.idf_).tolist(), strict=True))

    @classmethod
    def fit(
        cls, texts: Sequence[str], categories: Sequence[Sequence[str]], *, ngrams: int = 1
    ) -> TermSpace:
        """Fit on ``texts`` and their ``categories``; raises ValueError when the texts hold no
        usable word at all."""
        vectorizer = _vectorizer(len(texts), ngrams)
        vectorizer.fit(texts)
        coded = [categories_text(c) for c in categories if c]
        category_vectorizer = _category_vectorizer().fit(coded or ["cs.AI"])
        return cls(vectorizer, category_vectorizer)

    def vectors(self, texts: Sequence[str]) -> Any:
        """A sparse matrix, one normalised row per text."""
        return self._vectorizer.transform(texts)

    def category_share(self, code: str) -> float:
        """Roughly the fraction of fitted papers that carry ``code`` (0 when unseen)."""
        return float(self._share.get(code, 0.0))

    def category_vectors(self, categories: Sequence[Sequence[str]]) -> Any:
        """A sparse matrix, one normalised row per list of categories (unknown codes: zero)."""
        return self._categories.transform([categories_text(c) for c in categories])

    def shared_terms(self, rows: Any, others: Any, limit: int = 3) -> list[list[str]]:
        """Per row pair, the terms contributing most to their cosine, strongest first."""
        product = rows.multiply(others).tocsr()
        shared: list[list[str]] = []
        for start, end in zip(product.indptr[:-1], product.indptr[1:], strict=True):
            weights = product.data[start:end]
            columns = product.indices[start:end]
            top = sorted(zip((-weights).tolist(), columns.tolist(), strict=True))[:limit]
            shared.append([str(self._terms[col]) for _, col in top])
        return shared
