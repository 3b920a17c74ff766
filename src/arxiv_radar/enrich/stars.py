"""GitHub star counts, many repositories per GraphQL request, refreshed at most daily.

The REST API costs one request per repository; GraphQL aliases (``r0: repository(...)``) fetch
a whole batch in one. Owner and name travel as GraphQL variables, never pasted into the query,
so an odd repository name cannot break (or inject into) the query.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from arxiv_radar import secrets
from arxiv_radar.enrich._wire import HttpClient, count_or_none, post_json
from arxiv_radar.errors import SourceFormatError
from arxiv_radar.records import StarsSchedule

__all__ = ["RECENT_PAPERS", "STARS_REFRESH", "GitHubStars", "github_owner_repo", "stars_schedule"]

logger = logging.getLogger(__name__)

STARS_REFRESH = timedelta(days=1)
RECENT_PAPERS = timedelta(days=30)
_SLACK = timedelta(hours=2)
_GITHUB_REPO = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")


def stars_schedule(now: datetime) -> StarsSchedule:
    """Recent papers (first seen in the last 30 days) daily, with slack for cron; older papers
    together on the first run of each UTC month."""
    month_start = now.astimezone(timezone.utc).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return StarsSchedule(
        refreshed_before=now - STARS_REFRESH + _SLACK,
        recent_since=now - RECENT_PAPERS,
        settled_before=month_start,
    )


def github_owner_repo(url: str) -> tuple[str, str] | None:
    """``(owner, name)`` of a canonical GitHub repository URL; other hosts have no stars here."""
    match = _GITHUB_REPO.match(url)
    return (match.group(1), match.group(2)) if match else None


class GitHubStars:
    """Star counts from the GitHub GraphQL API; needs a token (GraphQL refuses anonymous use)."""

    def __init__(
        self, client: HttpClient, api_base: str, token: str, *, batch_size: int = 50
    ) -> None:
        self._client = client
        self._url = f"{api_base.rstrip('/')}/graphql"
        self._token = token
        # GraphQL errors may quote the bearer token ("Bad credentials: bearer ghp_..."), and
        # they end up in the run record: every project error scrubs it from then on.
        secrets.register(token)
        self._batch_size = batch_size

    def fetch(self, repo_urls: Iterable[str]) -> dict[str, int]:
        """Stars by repository URL; repositories GitHub does not know are simply absent."""
        unique = dict.fromkeys(repo_urls)
        repos = [(url, pair) for url in unique if (pair := github_owner_repo(url))]
        stars: dict[str, int] = {}
        for start in range(0, len(repos), self._batch_size):
            stars.update(self._fetch_batch(repos[start : start + self._batch_size]))
        return stars

    def _fetch_batch(self, batch: Sequence[tuple[str, tuple[str, str]]]) -> dict[str, int]:
        query, variables = _batch_query([pair for _url, pair in batch])
        data = post_json(
            self._client,
            self._url,
            {"query": query, "variables": variables},
            headers={"Authorization": f"bearer {self._token}"},
        )
        nodes = data.get("data")
        if not isinstance(nodes, dict):
            raise SourceFormatError(
                f"{self._url}: GraphQL answer without data ({_first_error(data)})",
                url=self._url,
                fix="check that GITHUB_TOKEN is valid and not rate-limited",
            )
        return _read_counts(batch, nodes)


def _batch_query(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    params, fields, variables = [], [], {}
    for index, (owner, name) in enumerate(pairs):
        params.append(f"$o{index}: String!, $n{index}: String!")
        fields.append(
            f"r{index}: repository(owner: $o{index}, name: $n{index}) {{ stargazerCount }}"
        )
        variables[f"o{index}"], variables[f"n{index}"] = owner, name
    return f"query({', '.join(params)}) {{ {' '.join(fields)} }}", variables


def _read_counts(
    batch: Sequence[tuple[str, tuple[str, str]]], nodes: dict[str, Any]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index, (url, _pair) in enumerate(batch):
        node = nodes.get(f"r{index}")
        count = count_or_none(node.get("stargazerCount")) if isinstance(node, dict) else None
        if count is not None:
            counts[url] = count
        else:
            logger.debug("no star count for %s", url)
    return counts


def _first_error(data: dict[str, Any]) -> str:
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "unknown error"))
    return "no errors given"
