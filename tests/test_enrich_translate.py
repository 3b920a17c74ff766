"""Translators and the TL;DR summarizer over real HTTP, and the placeholder guard."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from arxiv_radar.enrich.protect import (
    TranslationRejected,
    check_translation,
    protect,
    restore,
)
from arxiv_radar.enrich.summarize import (
    SummarySettings,
    make_summarizer,
    resolve_summary_settings,
    summarize_paper,
)
from arxiv_radar.enrich.translate import (
    TranslationSettings,
    Translator,
    deepl_language,
    make_translator,
    translate_texts,
)
from arxiv_radar.errors import ConfigError, FetchError, SourceFormatError, UserError
from arxiv_radar.http import PoliteClient
from tests.fixtures.enrich.helpers import FAST, make_paper
from tests.servers.fake_apis import FakeChat, FakeDeepL, FakeGoogle, fake_chinese
from tests.servers.http import LocalServer, Reply

KEY = "sk-test-7f3a9c1e5b"
ABSTRACT = (
    "We bound the error by $\\mathcal{O}(n^{-1/2})$ and $$\\sum_i x_i^2 \\le 1$$ with "
    "\\(\\alpha > 0\\), using `torch.compile`. Code: https://github.com/o/r_1."
)


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with PoliteClient(FAST) as polite:
        yield polite


def openai_settings(server: LocalServer, **overrides: object) -> TranslationSettings:
    values: dict[str, object] = {
        "provider": "openai",
        "language": "zh-CN",
        "base_url": f"{server.url}/v1",
        "model": "deepseek-chat",
        "api_key_env": "DEEPSEEK_API_KEY",
    }
    values.update(overrides)
    return TranslationSettings(**values)  # type: ignore[arg-type]


def openai(server: LocalServer, client: PoliteClient, **overrides: object) -> Translator:
    translator = make_translator(
        openai_settings(server, **overrides), client, {"DEEPSEEK_API_KEY": KEY}
    )
    assert translator is not None
    return translator


def mangling(text: str) -> str:
    """A translator that wrecks LaTeX and links the way real ones do, keeping placeholders."""
    return "中文 " + text.replace("\\", "\\ ").replace("https://", "https:// ").replace("_", " _")


# --- the guard --------------------------------------------------------------------------------


def test_math_urls_and_code_survive_a_mangling_translator() -> None:
    guarded = protect(ABSTRACT)
    assert "$" not in guarded.text and "https" not in guarded.text and "`" not in guarded.text
    restored = restore(guarded, mangling(guarded.text))
    for span in (
        "$\\mathcal{O}(n^{-1/2})$",
        "$$\\sum_i x_i^2 \\le 1$$",
        "\\(\\alpha > 0\\)",
        "`torch.compile`",
        "https://github.com/o/r_1",
    ):
        assert span in restored
    assert restored.endswith("https://github.com/o/r_1.")  # the full stop is text, not URL


def test_a_dropped_placeholder_rejects_the_whole_answer() -> None:
    guarded = protect("Let $x$ and $y$ be reals.")
    with pytest.raises(TranslationRejected, match="missing \\[1\\]"):
        restore(guarded, "设 ⟦0⟧ 为实数。")


def test_duplicated_or_invented_placeholders_are_rejected() -> None:
    guarded = protect("Let $x$ be real.")
    with pytest.raises(TranslationRejected):
        restore(guarded, "设 ⟦0⟧ ⟦0⟧ 为实数。")
    with pytest.raises(TranslationRejected):
        restore(guarded, "设 ⟦0⟧ ⟦7⟧ 为实数。")


def test_placeholders_with_spaces_added_by_a_model_still_restore() -> None:
    guarded = protect("Let $x$ be real.")
    assert restore(guarded, "设 ⟦ 0 ⟧ 为实数。") == "设 $x$ 为实数。"


def test_glossary_keeps_some_terms_and_fixes_others() -> None:
    glossary = {"Gaussian Splatting": "", "NeRF": "NeRF", "point cloud": "点云"}
    guarded = protect("gaussian splatting beats NeRF on a Point Cloud.", glossary)
    restored = restore(guarded, mangling(guarded.text))
    assert "gaussian splatting" in restored
    assert "NeRF" in restored
    assert "点云" in restored
    assert "Point Cloud" not in restored


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("We study things.", "English source"),
        ("  we   STUDY things. ", "English source"),
        ("Wir untersuchen Dinge.", "no zh-CN text"),
    ],
)
def test_failed_translations_are_refused(answer: str, reason: str) -> None:
    with pytest.raises(TranslationRejected, match=reason):
        check_translation("We study things.", answer, "zh-CN")


def test_english_target_accepts_english() -> None:
    assert check_translation("Wir untersuchen.", " We study. ", "en") == "We study."


# --- providers --------------------------------------------------------------------------------


def test_openai_compatible_wire_format(server: LocalServer, client: PoliteClient) -> None:
    FakeChat(server, key=KEY)
    translator = openai(server, client)
    assert translator.translate(["Hello", "World"], target="zh-CN") == [
        "中文译文 Hello",
        "中文译文 World",
    ]
    request = server.requests_to("/v1/chat/completions")[0]
    body = json.loads(request.body)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert body["model"] == "deepseek-chat"
    assert body["messages"][0]["role"] == "system"
    assert "Simplified Chinese" in body["messages"][0]["content"]
    assert "⟦0⟧" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": "Hello"}


def test_keyless_openai_compatible_server_gets_no_auth_header(
    server: LocalServer, client: PoliteClient
) -> None:
    FakeChat(server, key="")  # Ollama, vLLM
    translator = make_translator(openai_settings(server, api_key_env=""), client, {})
    assert translator is not None
    translator.translate(["Hi"], target="zh-CN")
    assert "authorization" not in server.requests[0].headers


def test_deepl_wire_format(server: LocalServer, client: PoliteClient) -> None:
    FakeDeepL(server, key=KEY)
    settings = TranslationSettings(provider="deepl", base_url=server.url, api_key_env="MY_DEEPL")
    translator = make_translator(settings, client, {"MY_DEEPL": KEY})
    assert translator is not None
    assert translator.translate(["a", "b"], target="zh-CN") == ["中文译文 a", "中文译文 b"]
    (request,) = server.requests
    assert request.headers["authorization"] == f"DeepL-Auth-Key {KEY}"
    assert json.loads(request.body) == {
        "text": ["a", "b"],
        "source_lang": "EN",
        "target_lang": "ZH-HANS",
    }


@pytest.mark.parametrize(
    ("code", "deepl"),
    [("zh-CN", "ZH-HANS"), ("zh-TW", "ZH-HANT"), ("ja", "JA"), ("pt-BR", "PT-BR"), ("de-AT", "DE")],
)
def test_deepl_language_codes(code: str, deepl: str) -> None:
    assert deepl_language(code) == deepl


def test_google_sends_the_key_in_a_header_never_the_url(
    server: LocalServer, client: PoliteClient
) -> None:
    FakeGoogle(server, key=KEY)
    settings = TranslationSettings(provider="google", base_url=server.url)
    translator = make_translator(settings, client, {"GOOGLE_API_KEY": KEY})
    assert translator is not None
    assert translator.translate(["a"], target="zh-CN") == ["中文译文 a"]
    (request,) = server.requests
    assert request.query == {}
    assert request.headers["x-goog-api-key"] == KEY
    assert json.loads(request.body)["format"] == "text"


def test_deepl_answer_with_wrong_count_is_a_format_error(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("POST", "/v2/translate", Reply(200, '{"translations": [{"text": "x"}]}'))
    settings = TranslationSettings(provider="deepl", base_url=server.url)
    translator = make_translator(settings, client, {"DEEPL_API_KEY": KEY})
    assert translator is not None
    with pytest.raises(SourceFormatError, match="expected 2"):
        translator.translate(["a", "b"], target="de")


def test_chat_malformed_json_is_a_format_error(server: LocalServer, client: PoliteClient) -> None:
    server.route("POST", "/v1/chat/completions", Reply(200, '{"choices": [{"message": '))
    with pytest.raises(SourceFormatError, match="malformed JSON"):
        openai(server, client).translate(["a"], target="zh-CN")


def test_chat_answer_without_content_is_a_format_error(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("POST", "/v1/chat/completions", Reply(200, '{"choices": []}'))
    with pytest.raises(SourceFormatError, match=r"message\.content"):
        openai(server, client).translate(["a"], target="zh-CN")


# --- configuration and secrets ------------------------------------------------------------------


def test_missing_key_names_the_variable(server: LocalServer, client: PoliteClient) -> None:
    with pytest.raises(UserError, match="no key: set DEEPSEEK_API_KEY"):
        make_translator(openai_settings(server), client, {})


def test_default_key_variables_for_deepl_and_google(client: PoliteClient) -> None:
    with pytest.raises(UserError, match="DEEPL_API_KEY"):
        make_translator(TranslationSettings(provider="deepl"), client, {})
    with pytest.raises(UserError, match="GOOGLE_API_KEY"):
        make_translator(TranslationSettings(provider="google"), client, {})


def test_provider_none_and_unknown_and_missing_model(client: PoliteClient) -> None:
    assert make_translator(TranslationSettings(), client, {}) is None
    with pytest.raises(ConfigError, match="'babelfish'") as caught:
        make_translator(TranslationSettings(provider="babelfish"), client, {})
    assert "deepl" in caught.value.fix
    with pytest.raises(ConfigError, match=r"translation\.model"):
        make_translator(TranslationSettings(provider="openai"), client, {})


def test_key_never_in_logs_exceptions_or_reprs(
    server: LocalServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    FakeChat(server, key="the-right-key")  # answers 401 echoing the key it was given
    caplog.set_level(logging.DEBUG)
    translator = openai(server, client)
    with pytest.raises(FetchError) as caught:
        translate_texts(translator, ["Hello $x$"], target="zh-CN")
    error = caught.value
    exposed = [str(error), repr(error), error.fix, repr(translator), caplog.text]
    exposed += [str(getattr(error, "body", b"")), str(error.__cause__)]
    assert all(KEY not in text for text in exposed)
    assert "HTTP 401" in str(error)
    assert error.url.endswith("/v1/chat/completions")


def test_translate_texts_protects_and_checks_each_item(
    server: LocalServer, client: PoliteClient
) -> None:
    def drop_second_formula(text: str) -> str:
        return fake_chinese(re.sub(r"⟦1⟧", "", text)) if "⟦1⟧" in text else fake_chinese(text)

    FakeChat(server, key=KEY, translate=drop_second_formula)
    results = translate_texts(
        openai(server, client), [ABSTRACT, "Let $a$ and $b$ be sets."], target="zh-CN"
    )
    assert isinstance(results[0], TranslationRejected)  # lost $$...$$ (placeholder 1)
    assert isinstance(results[1], TranslationRejected)
    FakeChat(server, key=KEY)
    (ok,) = translate_texts(openai(server, client), [ABSTRACT], target="zh-CN")
    assert isinstance(ok, str)
    assert "$$\\sum_i x_i^2 \\le 1$$" in ok
    assert "https://github.com/o/r_1" in ok


# --- summaries -------------------------------------------------------------------------------


def test_summary_inherits_the_openai_translation_settings(
    server: LocalServer, client: PoliteClient
) -> None:
    FakeChat(server, key=KEY, translate=lambda _user: "本文提出一种新方法。")
    summary = resolve_summary_settings(SummarySettings(enabled=True), openai_settings(server))
    assert summary.model == "deepseek-chat"
    assert summary.language == "zh-CN"
    summarizer = make_summarizer(summary, client, {"DEEPSEEK_API_KEY": KEY})
    assert summarizer is not None
    paper = make_paper(title="Fast Things", abstract="We make things fast.")
    assert summarize_paper(summarizer, paper, "zh-CN") == "本文提出一种新方法。"
    body = json.loads(server.requests[0].body)
    assert "Fast Things" in body["messages"][1]["content"]
    assert "one-sentence" in body["messages"][0]["content"]


def test_summary_echoing_english_is_rejected(server: LocalServer, client: PoliteClient) -> None:
    FakeChat(server, key=KEY, translate=lambda _user: "Fast Things")
    summary = resolve_summary_settings(SummarySettings(enabled=True), openai_settings(server))
    summarizer = make_summarizer(summary, client, {"DEEPSEEK_API_KEY": KEY})
    assert summarizer is not None
    with pytest.raises(TranslationRejected):
        summarize_paper(summarizer, make_paper(title="Fast Things"), "zh-CN")


def test_disabled_summaries_build_nothing(client: PoliteClient) -> None:
    assert make_summarizer(SummarySettings(), client, {}) is None
