"""Keep math, URLs, code and glossary terms out of the translator's reach.

Machine translators and LLMs mangle LaTeX (``$\\mathcal{O}(n)$`` becomes ``$\\ mathcal {O} (n)$``)
and "translate" URLs. Each such span is swapped for a numbered placeholder before sending and
swapped back after; a response that lost, duplicated or invented a placeholder is rejected
whole, because half-restored text would silently corrupt a formula or a link. Glossary terms
ride on the same mechanism: a kept term restores to itself, a fixed translation to its
translation.

The other gate is :func:`check_translation`: an empty answer, the English source echoed back,
or text without a single character of the target script is a failure, never a translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Protected", "TranslationRejected", "check_translation", "protect", "restore"]

_SPANS = (
    re.compile(r"`[^`\n]+`"),
    re.compile(r"\$\$.+?\$\$", re.DOTALL),
    re.compile(r"(?<!\\)\$[^$]+?(?<!\\)\$", re.DOTALL),
    re.compile(r"\\\(.+?\\\)", re.DOTALL),
    re.compile(r"\\\[.+?\\\]", re.DOTALL),
    re.compile(r"(?:https?://|www\.)[^\s<>\"'{}]+[^\s<>\"'{}.,;:)\]]", re.IGNORECASE),
)
_PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")
# Scripts a translation into these languages must contain at least one character of.
_SCRIPTS = {
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "ko": re.compile(r"[\uac00-\ud7af]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "uk": re.compile(r"[\u0400-\u04ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}


class TranslationRejected(ValueError):
    """A provider answered, but the answer must not be stored; the field stays pending."""


@dataclass(frozen=True)
class Protected:
    """Text with placeholders, and what each placeholder turns back into."""

    text: str
    replacements: tuple[str, ...]


def protect(text: str, glossary: Mapping[str, str] | None = None) -> Protected:
    """Swap math, code, URLs and glossary terms for ``⟦n⟧`` placeholders."""
    replacements: list[str] = []

    def hide(restored: str) -> str:
        replacements.append(restored)
        return f"⟦{len(replacements) - 1}⟧"

    for pattern in _SPANS:
        text = pattern.sub(lambda m: hide(m.group(0)), text)
    for term, fixed in sorted((glossary or {}).items(), key=lambda kv: -len(kv[0])):
        text = _hide_term(text, term, fixed, hide)
    return Protected(text=text, replacements=tuple(replacements))


def _hide_term(text: str, term: str, fixed: str, hide: Callable[[str], str]) -> str:
    pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: hide(_glossary_target(m.group(0), fixed)), text)


def _glossary_target(found: str, fixed: str) -> str:
    """A kept term (value empty or equal to the term) restores as the author wrote it."""
    return found if not fixed or fixed.casefold() == found.casefold() else fixed


def restore(protected: Protected, translated: str) -> str:
    """Put every placeholder back; reject an answer that did not keep each exactly once."""
    found = [int(n) for n in _PLACEHOLDER.findall(translated)]
    expected = list(range(len(protected.replacements)))
    if sorted(found) != expected:
        missing = sorted(set(expected) - set(found))
        raise TranslationRejected(
            f"placeholders changed (expected {len(expected)}, got {len(found)}, "
            f"missing {missing[:5]})"
        )
    return _PLACEHOLDER.sub(lambda m: protected.replacements[int(m.group(1))], translated)


def check_translation(source: str, translated: str, target: str) -> str:
    """The stripped translation, or :class:`TranslationRejected` if it must not be stored."""
    result = translated.strip()
    if not result:
        raise TranslationRejected("empty translation")
    primary = target.split("-", 1)[0].lower()
    if primary == "en":
        return result
    if _squash(result) == _squash(source):
        raise TranslationRejected("the translation is the English source text")
    script = _SCRIPTS.get(primary)
    if script is not None and not script.search(result):
        raise TranslationRejected(f"the translation contains no {target} text")
    return result


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()
