"""Fake Hugging Face, Papers with Code, GitHub GraphQL, OpenAI, DeepL and Google Translate APIs.

Each fake installs routes on a :class:`~tests.servers.http.LocalServer` and answers in the real
service's wire format (field names, status codes, error bodies), so the enrichers are tested
over real HTTP against what the services actually send. Faults (429, 500, timeouts, malformed
JSON) are injected by tests with ``server.route`` on the same paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.servers.http import LocalServer, Reply, Request

__all__ = [
    "FakeChat",
    "FakeDeepL",
    "FakeGitHub",
    "FakeGoogle",
    "FakeHuggingFace",
    "FakePapersWithCode",
    "daily_item",
    "fake_chinese",
    "json_reply",
]

Translate = Callable[[str], str]


def json_reply(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(payload), {"Content-Type": "application/json", **(headers or {})}
    )


def fake_chinese(text: str) -> str:
    """A stand-in translation: different from the source, in Han script, placeholders kept."""
    return f"中文译文 {text}"


class FakeHuggingFace:
    """``GET /api/papers/{id}``: the paper page JSON, or 404 ``{"error": ...}`` if not indexed."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server

    def paper(
        self,
        arxiv_id: str,
        *,
        repo: str | None = None,
        stars: int | None = None,
        project: str | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "id": arxiv_id,
            "title": f"Paper {arxiv_id}",
            "summary": "An abstract.",
            "publishedAt": "2026-11-20T00:00:00.000Z",
            "upvotes": 3,
            "authors": [{"name": "A. Author", "hidden": False}],
        }
        if repo is not None:
            body["githubRepo"] = repo
        if stars is not None:
            body["githubStars"] = stars
        if project is not None:
            body["projectPage"] = project
        self.server.route("GET", self.path(arxiv_id), json_reply(200, body))

    def missing(self, arxiv_id: str) -> None:
        self.server.route("GET", self.path(arxiv_id), json_reply(404, {"error": "Paper not found"}))

    @staticmethod
    def path(arxiv_id: str) -> str:
        return f"/api/papers/{arxiv_id}"

    daily_path = "/api/daily_papers"

    def daily(self, lists: dict[str, bytes]) -> None:
        """``GET /api/daily_papers?date=YYYY-MM-DD``: the day's list (a JSON array), else ``[]``."""

        def answer(request: Request) -> Reply:
            body = lists.get(request.param("date"), b"[]")
            return Reply(200, body, {"Content-Type": "application/json"})

        self.server.route("GET", self.daily_path, answer)


def daily_item(arxiv_id: str, repo: str | None = None, **paper: object) -> dict[str, Any]:
    """One entry of Hugging Face's daily papers list, shaped like the recorded answer."""
    body: dict[str, Any] = {
        "id": arxiv_id,
        "title": f"Paper {arxiv_id}",
        "publishedAt": "2026-11-01T00:00:00.000Z",
        "upvotes": 4,
        **paper,
    }
    if repo is not None:
        body["githubRepo"] = repo
    return {"paper": body, "publishedAt": "2026-11-01T20:00:00.000Z", "title": body["title"]}


class FakePapersWithCode:
    """``GET /api/v1/papers/{id}?include_resources=true`` with ``repositories[]``."""

    prefix = "/api/v1"

    def __init__(self, server: LocalServer) -> None:
        self.server = server

    @property
    def base(self) -> str:
        return f"{self.server.url}{self.prefix}"

    def paper(self, arxiv_id: str, repositories: list[dict[str, Any]]) -> None:
        body = {
            "id": arxiv_id.replace(".", "-"),
            "arxiv_id": arxiv_id,
            "title": f"Paper {arxiv_id}",
            "repositories": [
                {"owner": "o", "name": "n", "stars": None, "framework": "pytorch", **repo}
                for repo in repositories
            ],
        }
        self.server.route("GET", self.path(arxiv_id), json_reply(200, body))

    def missing(self, arxiv_id: str) -> None:
        self.server.route("GET", self.path(arxiv_id), json_reply(404, {"detail": "Not found."}))

    def path(self, arxiv_id: str) -> str:
        return f"{self.prefix}/papers/{arxiv_id}"


_ALIAS = re.compile(r"(r\d+): repository\(owner: \$(o\d+), name: \$(n\d+)\)")


class FakeGitHub:
    """``POST /graphql``: aliased ``repository`` lookups with variables, bearer-token auth."""

    def __init__(self, server: LocalServer, token: str, stars: dict[str, int]) -> None:
        self.token = token
        self.stars = stars  # "owner/name" -> count
        server.route("POST", "/graphql", self.answer)

    def answer(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"bearer {self.token}":
            return json_reply(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com"}
            )
        body = json.loads(request.body)
        data: dict[str, Any] = {}
        errors = []
        for alias, owner_var, name_var in _ALIAS.findall(body["query"]):
            full = f"{body['variables'][owner_var]}/{body['variables'][name_var]}"
            if full in self.stars:
                data[alias] = {"stargazerCount": self.stars[full]}
            else:
                data[alias] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "message": f"Could not resolve to a Repository with the name '{full}'.",
                    }
                )
        payload: dict[str, Any] = {"data": data}
        if errors:
            payload["errors"] = errors
        return json_reply(200, payload)


class FakeChat:
    """OpenAI-compatible ``POST {prefix}/chat/completions``; 401 with OpenAI's error body."""

    def __init__(
        self,
        server: LocalServer,
        *,
        key: str,
        translate: Translate = fake_chinese,
        prefix: str = "/v1",
    ) -> None:
        self.key = key
        self.translate = translate
        self.path = f"{prefix}/chat/completions"
        self.base = f"{server.url}{prefix}"
        server.route("POST", self.path, self.answer)

    def answer(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        if self.key and auth != f"Bearer {self.key}":
            # OpenAI echoes (part of) the key it was given: callers must not pass this on.
            given = auth.removeprefix("Bearer ")
            return json_reply(
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {given}.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
        body = json.loads(request.body)
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return json_reply(200, _completion(body["model"], self.translate(user)))


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1764000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


class FakeDeepL:
    """DeepL v2 ``POST /v2/translate`` (JSON body), ``Authorization: DeepL-Auth-Key``."""

    path = "/v2/translate"

    def __init__(self, server: LocalServer, *, key: str, translate: Translate = fake_chinese):
        self.key = key
        self.translate = translate
        server.route("POST", self.path, self.answer)

    def answer(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"DeepL-Auth-Key {self.key}":
            return json_reply(403, {"message": "Authorization failure, check auth_key"})
        body = json.loads(request.body)
        return json_reply(
            200,
            {
                "translations": [
                    {"detected_source_language": "EN", "text": self.translate(text)}
                    for text in body["text"]
                ]
            },
        )


class FakeGoogle:
    """Cloud Translation v2 ``POST /language/translate/v2``; key in header or ``?key=``."""

    path = "/language/translate/v2"

    def __init__(self, server: LocalServer, *, key: str, translate: Translate = fake_chinese):
        self.key = key
        self.translate = translate
        server.route("POST", self.path, self.answer)

    def answer(self, request: Request) -> Reply:
        given = request.headers.get("x-goog-api-key") or request.param("key")
        if given != self.key:
            return json_reply(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                    }
                },
            )
        body = json.loads(request.body)
        texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
        translations = [
            {"translatedText": self.translate(text), "detectedSourceLanguage": "en"}
            for text in texts
        ]
        return json_reply(200, {"data": {"translations": translations}})
