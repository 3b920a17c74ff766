"""One-sentence TL;DRs in the reader's language, through an OpenAI-compatible chat model.

A summary obeys the same rules as a translation: an empty answer, the English title or abstract
echoed back, or text without the target script is a failure that stays pending for the next
run, never something stored and shown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from arxiv_radar.enrich._wire import HttpClient
from arxiv_radar.enrich.protect import TranslationRejected, check_translation
from arxiv_radar.enrich.translate import (
    DEFAULT_BASE_URLS,
    ChatCompletions,
    TranslationSettings,
    api_key,
    language_name,
)
from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Paper

__all__ = [
    "SUMMARIZERS",
    "OpenAISummarizer",
    "Summarizer",
    "SummarySettings",
    "make_summarizer",
    "resolve_summary_settings",
    "summarize_paper",
]


@dataclass(frozen=True)
class SummarySettings:
    """The ``summary:`` section; empty fields inherit from an ``openai`` translation section."""

    enabled: bool = False
    provider: str = "openai"
    language: str = ""
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    budget_papers: int | None = None


class Summarizer(Protocol):
    """Writes one sentence about a paper in ``language``; raises FetchError on outage."""

    name: str
    model: str

    def summarize(self, paper: Paper, *, language: str) -> str: ...


_SUMMARY_PROMPT = (
    "You write a one-sentence TL;DR of a scientific paper in {language}, for researchers "
    "skimming a daily digest. Say what the paper contributes and, if stated, its main result. "
    "Reply with that single sentence only, at most 60 words, in {language}."
)


class OpenAISummarizer:
    name = "openai"

    def __init__(self, chat: ChatCompletions) -> None:
        self._chat = chat
        self.model = chat.model

    def summarize(self, paper: Paper, *, language: str) -> str:
        system = _SUMMARY_PROMPT.format(language=language_name(language))
        return self._chat.complete(system, f"Title: {paper.title}\n\nAbstract: {paper.abstract}")


def resolve_summary_settings(
    summary: SummarySettings, translation: TranslationSettings
) -> SummarySettings:
    """Fill empty fields from the translation section when it uses the same kind of provider."""
    inherit = translation.provider == summary.provider

    def pick(own: str, inherited: str) -> str:
        return own or (inherited if inherit else "")

    return SummarySettings(
        enabled=summary.enabled,
        provider=summary.provider,
        language=summary.language or translation.language,
        base_url=pick(summary.base_url, translation.base_url),
        model=pick(summary.model, translation.model),
        api_key_env=pick(summary.api_key_env, translation.api_key_env),
        budget_papers=summary.budget_papers,
    )


SummarizerFactory = Callable[[SummarySettings, HttpClient, str], Summarizer]


def _openai(settings: SummarySettings, client: HttpClient, key: str) -> Summarizer:
    if not settings.model:
        raise ConfigError(
            "summary.model: required when summaries are enabled",
            fix="set summary.model (or translation.model with provider openai)",
        )
    base = settings.base_url or DEFAULT_BASE_URLS["openai"]
    return OpenAISummarizer(ChatCompletions(client, base, settings.model, key))


SUMMARIZERS: dict[str, SummarizerFactory] = {"openai": _openai}


def make_summarizer(
    settings: SummarySettings, client: HttpClient, env: Mapping[str, str] | None = None
) -> Summarizer | None:
    """The configured summarizer, or None when summaries are disabled."""
    if not settings.enabled:
        return None
    factory = SUMMARIZERS.get(settings.provider)
    if factory is None:
        raise ConfigError(
            f"summary.provider: unknown provider {settings.provider!r}",
            fix=f"use one of: {', '.join(sorted(SUMMARIZERS))}",
        )
    as_translation = TranslationSettings(
        provider=settings.provider, api_key_env=settings.api_key_env
    )
    key = api_key(as_translation, os.environ if env is None else env)
    return factory(settings, client, key)


def summarize_paper(summarizer: Summarizer, paper: Paper, language: str) -> str:
    """The checked TL;DR; :class:`TranslationRejected` when it must not be stored."""
    text = summarizer.summarize(paper, language=language)
    for english in (paper.title, paper.abstract):
        if " ".join(text.split()).casefold() == " ".join(english.split()).casefold():
            raise TranslationRejected("the summary repeats the English text")
    return check_translation(paper.abstract, text, language)
