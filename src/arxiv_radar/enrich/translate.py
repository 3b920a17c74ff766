"""Translation providers behind one Protocol, chosen by name in the config.

Providers are thin wire-format adapters: they send texts and return what came back, raising
:class:`~arxiv_radar.errors.FetchError` when the service could not answer. Deciding whether an
answer is a usable translation (placeholders intact, not English, not empty) is
:func:`translate_texts`' job, so every provider gets the same rules.

API keys come from the environment variable the config names and go only into request headers:
never into URLs (which end up in logs and error messages), reprs or exceptions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from arxiv_radar import secrets
from arxiv_radar.enrich._wire import HttpClient, post_json
from arxiv_radar.enrich.protect import (
    TranslationRejected,
    check_translation,
    protect,
    restore,
)
from arxiv_radar.errors import (
    ArxivRadarError,
    ConfigError,
    FetchError,
    SourceFormatError,
    StageError,
    UserError,
)
from arxiv_radar.http import HttpStatusError

__all__ = [
    "TRANSLATORS",
    "ChatCompletions",
    "DeepLTranslator",
    "GoogleTranslator",
    "OpenAITranslator",
    "ProviderMisconfigured",
    "TranslationSettings",
    "Translator",
    "api_key",
    "deepl_language",
    "language_name",
    "make_translator",
    "misconfiguration",
    "translate_texts",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "deepl": "https://api-free.deepl.com",
    "google": "https://translation.googleapis.com",
}
DEFAULT_KEY_ENVS = {"deepl": "DEEPL_API_KEY", "google": "GOOGLE_API_KEY"}
_LANGUAGE_NAMES = {
    "zh-cn": "Simplified Chinese",
    "zh-hans": "Simplified Chinese",
    "zh": "Simplified Chinese",
    "zh-tw": "Traditional Chinese",
    "zh-hant": "Traditional Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "ru": "Russian",
    "pt": "Portuguese",
    "it": "Italian",
}
_DEEPL_CODES = {
    "zh": "ZH-HANS",
    "zh-cn": "ZH-HANS",
    "zh-hans": "ZH-HANS",
    "zh-sg": "ZH-HANS",
    "zh-tw": "ZH-HANT",
    "zh-hk": "ZH-HANT",
    "zh-hant": "ZH-HANT",
    "en": "EN-US",
    "en-us": "EN-US",
    "en-gb": "EN-GB",
    "pt": "PT-PT",
    "pt-pt": "PT-PT",
    "pt-br": "PT-BR",
}


@dataclass(frozen=True)
class TranslationSettings:
    """The ``translation:`` section of the config, as plain data."""

    provider: str = "none"
    language: str = "zh-CN"
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    translate_title: bool = False
    glossary: Mapping[str, str] = field(default_factory=dict)
    budget_papers: int | None = None
    budget_chars: int | None = None
    timeout: float = 60.0
    batch_size: int = 8


class Translator(Protocol):
    """Sends texts, returns the provider's raw answers in the same order."""

    name: str
    model: str

    def translate(self, texts: list[str], *, source: str = "en", target: str) -> list[str]: ...


def language_name(code: str) -> str:
    """A name LLMs understand unambiguously ("Simplified Chinese", not "zh-CN")."""
    name = _LANGUAGE_NAMES.get(code.lower())
    return f"{name} ({code})" if name else code


def deepl_language(code: str) -> str:
    """DeepL's target code: zh-CN is ZH-HANS, en is EN-US, else the upper-cased language."""
    lowered = code.lower()
    return _DEEPL_CODES.get(lowered, lowered.split("-", 1)[0].upper())


def api_key(settings: TranslationSettings, env: Mapping[str, str]) -> str:
    """The key from the variable the config names; "" when an OpenAI-compatible server needs none.

    A named variable that is unset is the user's mistake, reported by name (never by value).
    """
    variable = settings.api_key_env or DEFAULT_KEY_ENVS.get(settings.provider, "")
    if not variable:
        return ""
    key = env.get(variable, "").strip()
    if not key:
        raise UserError(
            f"translation: no key: set {variable}",
            fix=f"export {variable}=... (the key of your {settings.provider} account)",
        )
    secrets.register(key)
    return key


_AUTH_STATUSES = frozenset({401, 403})
# What a server says to a request it has no route for: a wrong base_url, not an outage.
_ENDPOINT_STATUSES = frozenset({404, 405, 501})


class ProviderMisconfigured(StageError):
    """A provider refused the key or has no such endpoint: retrying tomorrow cannot help, so
    the stage fails (exit 1, shown by `status`) with the fix instead of deferring quietly."""


def misconfiguration(
    exc: FetchError, *, section: str, key_env: str
) -> ProviderMisconfigured | None:
    """The configuration mistake behind ``exc`` (HTTP 401/403: the key; 404/405/501: the
    ``base_url``), or None for an outage that the next run may not meet."""
    if not isinstance(exc, HttpStatusError):
        return None
    status, url = exc.status_code, exc.url
    google_key = status == 400 and b"API key not valid" in exc.body
    if status in _AUTH_STATUSES or google_key:
        holder = f"the key in {key_env}" if key_env else "a request without a key"
        return ProviderMisconfigured(
            f"{section}: {url} refused {holder} (HTTP {status})",
            fix=f"set {key_env or section + '.api_key_env'} to a valid key for this server "
            "(on GitHub Actions: the repository secret)",
        )
    if status in _ENDPOINT_STATUSES:
        return ProviderMisconfigured(
            f"{section}: {url} answered HTTP {status}: there is no such API at this address",
            fix=f"check {section}.base_url (OpenAI-compatible servers end in /v1, e.g. "
            "https://api.deepseek.com/v1) and the provider",
        )
    return None


def _call(secret: str, url: str, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a request; make sure no error raised by it can carry the key.

    Some APIs echo the key they rejected in their error body (OpenAI does), and HttpStatusError
    keeps that body, so such an error is replaced by a plain FetchError without it. (Its
    message is scrubbed already, like every project error's.)
    """
    try:
        return send()
    except ArxivRadarError as exc:
        body = getattr(exc, "body", b"")
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
        if not secret or secrets.scrub(text) == text:
            raise
        if isinstance(exc, HttpStatusError):  # keep the status: it tells a bad key from a bad URL
            raise HttpStatusError(
                exc.message, url=url, status_code=exc.status_code, body=b"", fix=exc.fix
            ) from None
        raise FetchError(exc.message, url=url, fix="check the API key and the endpoint") from None


def _auth(key: str, scheme: str) -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"} if key else {}


class ChatCompletions:
    """Any OpenAI-compatible ``POST {base_url}/chat/completions`` (OpenAI, DeepSeek, Ollama...)."""

    def __init__(self, client: HttpClient, base_url: str, model: str, key: str) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/chat/completions"
        self.model = model
        self._key = key

    def __repr__(self) -> str:
        return f"ChatCompletions(url={self._url!r}, model={self.model!r})"

    def complete(self, system: str, user: str) -> str:
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
        data = _call(
            self._key,
            self._url,
            lambda: post_json(self._client, self._url, body, headers=_auth(self._key, "Bearer")),
        )
        return _message_content(data, self._url)


def _message_content(data: Mapping[str, Any], url: str) -> str:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise SourceFormatError(f"{url}: no choices[0].message.content in the answer", url=url)
    return content


_TRANSLATE_PROMPT = (
    "You translate abstracts of scientific papers from {source} into {target}. "
    "Reply with the translation only, no notes. Translate faithfully and completely. "
    "Placeholders such as ⟦0⟧ stand for formulas, links and fixed terms: copy each one "
    "unchanged, exactly once, where it belongs in the translated sentence."
)


class OpenAITranslator:
    """One chat-completions request per text: a failure costs one text, not a batch."""

    name = "openai"

    def __init__(self, chat: ChatCompletions) -> None:
        self._chat = chat
        self.model = chat.model

    def translate(self, texts: list[str], *, source: str = "en", target: str) -> list[str]:
        system = _TRANSLATE_PROMPT.format(
            source=language_name(source), target=language_name(target)
        )
        return [self._chat.complete(system, text) for text in texts]


class DeepLTranslator:
    """DeepL API v2, ``POST {base}/v2/translate`` with ``Authorization: DeepL-Auth-Key``."""

    name = "deepl"
    model = ""

    def __init__(self, client: HttpClient, base_url: str, key: str) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/v2/translate"
        self._key = key

    def __repr__(self) -> str:
        return f"DeepLTranslator(url={self._url!r})"

    def translate(self, texts: list[str], *, source: str = "en", target: str) -> list[str]:
        body = {
            "text": texts,
            "source_lang": source.split("-", 1)[0].upper(),
            "target_lang": deepl_language(target),
        }
        headers = _auth(self._key, "DeepL-Auth-Key")
        data = _call(
            self._key, self._url, lambda: post_json(self._client, self._url, body, headers=headers)
        )
        items = data.get("translations")
        return _texts(items, "text", len(texts), self._url)


class GoogleTranslator:
    """Cloud Translation v2, ``POST {base}/language/translate/v2``.

    The key travels in the ``X-Goog-Api-Key`` header, which Google accepts like ``?key=``,
    so it can never show up in a logged or reported URL.
    """

    name = "google"
    model = ""

    def __init__(self, client: HttpClient, base_url: str, key: str) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/language/translate/v2"
        self._key = key

    def __repr__(self) -> str:
        return f"GoogleTranslator(url={self._url!r})"

    def translate(self, texts: list[str], *, source: str = "en", target: str) -> list[str]:
        body = {"q": texts, "source": source, "target": target, "format": "text"}
        headers = {"X-Goog-Api-Key": self._key}
        data = _call(
            self._key, self._url, lambda: post_json(self._client, self._url, body, headers=headers)
        )
        payload = data.get("data")
        items = payload.get("translations") if isinstance(payload, dict) else None
        return _texts(items, "translatedText", len(texts), self._url)


def _texts(items: object, key: str, expected: int, url: str) -> list[str]:
    """The translated strings, checked to be one per text sent."""
    if not isinstance(items, list) or len(items) != expected:
        raise SourceFormatError(f"{url}: expected {expected} translations in the answer", url=url)
    texts = [item.get(key) if isinstance(item, dict) else None for item in items]
    if not all(isinstance(text, str) for text in texts):
        raise SourceFormatError(f"{url}: a translation without {key!r} in the answer", url=url)
    return [str(text) for text in texts]


TranslatorFactory = Callable[[TranslationSettings, HttpClient, str], Translator]


def _openai(settings: TranslationSettings, client: HttpClient, key: str) -> Translator:
    if not settings.model:
        raise ConfigError(
            "translation.model: required for provider openai",
            fix="set translation.model, e.g. deepseek-chat or gpt-4o-mini",
        )
    base = settings.base_url or DEFAULT_BASE_URLS["openai"]
    return OpenAITranslator(ChatCompletions(client, base, settings.model, key))


TRANSLATORS: dict[str, TranslatorFactory] = {
    "openai": _openai,
    "deepl": lambda s, client, key: DeepLTranslator(
        client, s.base_url or DEFAULT_BASE_URLS["deepl"], key
    ),
    "google": lambda s, client, key: GoogleTranslator(
        client, s.base_url or DEFAULT_BASE_URLS["google"], key
    ),
}


def make_translator(
    settings: TranslationSettings, client: HttpClient, env: Mapping[str, str] | None = None
) -> Translator | None:
    """The configured translator, or None for provider ``none``."""
    if settings.provider == "none":
        return None
    factory = TRANSLATORS.get(settings.provider)
    if factory is None:
        raise ConfigError(
            f"translation.provider: unknown provider {settings.provider!r}",
            fix=f"use one of: none, {', '.join(sorted(TRANSLATORS))}",
        )
    key = api_key(settings, os.environ if env is None else env)
    return factory(settings, client, key)


def translate_texts(
    translator: Translator,
    texts: list[str],
    *,
    target: str,
    glossary: Mapping[str, str] | None = None,
) -> list[str | TranslationRejected]:
    """Translate with protection; each item is the checked translation or why it was refused.

    Raises FetchError when the provider could not answer: then nothing was translated.
    """
    protected = [protect(text, glossary) for text in texts]
    answers = translator.translate([p.text for p in protected], target=target)
    if len(answers) != len(texts):
        raise SourceFormatError(
            f"{translator.name}: {len(answers)} answers for {len(texts)} texts", url="(provider)"
        )
    results: list[str | TranslationRejected] = []
    for source, guard, answer in zip(texts, protected, answers, strict=True):
        try:
            results.append(check_translation(source, restore(guard, answer), target))
        except TranslationRejected as rejected:
            logger.info("translation refused: %s", rejected)
            results.append(rejected)
    return results
