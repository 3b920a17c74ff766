"""Seeds from a Zotero collection through the Zotero web API (v3), read at the rank step.

Items carry their arXiv id in different fields depending on how they were saved (``url``,
``DOI`` 10.48550/arXiv.ID, ``extra`` "arXiv: ID", ``archiveID``), so every one is searched, as
for a BibTeX export. The key is read from an environment variable and sent as a header only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from arxiv_radar.config import ZoteroConfig
from arxiv_radar.errors import SourceFormatError, UserError
from arxiv_radar.http import PoliteClient, redact_url
from arxiv_radar.rank.seeds import FileSeed, seed_from_fields

__all__ = ["PAGE", "read_collection"]

PAGE = 100  # the API's largest page
_ACCEPT = "application/json"
_SKIPPED = {"note", "attachment", "annotation"}


def _headers(zotero: ZoteroConfig, topic: str, env: Mapping[str, str]) -> dict[str, str]:
    headers = {"Zotero-API-Version": "3"}
    if zotero.api_key_env:
        key = env.get(zotero.api_key_env, "")
        if not key:
            raise UserError(
                f"topic {topic!r}: zotero.api_key_env names {zotero.api_key_env}, which is not set",
                fix=f"set {zotero.api_key_env} to a Zotero key with read access",
            )
        headers["Zotero-API-Key"] = key
    return headers


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        items = response.json()
    except ValueError:
        items = None
    if not isinstance(items, list):
        url = redact_url(str(response.url))
        raise SourceFormatError(
            f"{url}: the Zotero API did not answer with a list of items",
            url=url,
            fix="check zotero.library and zotero.collection",
        )
    return [item for item in items if isinstance(item, dict)]


def _seed(item: Mapping[str, Any]) -> FileSeed | None:
    data = item.get("data")
    if not isinstance(data, dict) or data.get("itemType") in _SKIPPED:
        return None
    return seed_from_fields(
        {
            "title": data.get("title", ""),
            "abstract": data.get("abstractNote", ""),
            "url": data.get("url", ""),
            "doi": data.get("DOI", ""),
            "note": data.get("extra", ""),
            "arxivid": data.get("archiveID", ""),
        }
    )


def read_collection(
    client: PoliteClient, base_url: str, zotero: ZoteroConfig, *, topic: str, env: Mapping[str, str]
) -> list[FileSeed]:
    """Every top-level item of the collection, page by page until ``Total-Results``."""
    url = f"{base_url}/{zotero.library}/collections/{zotero.collection}/items/top"
    headers = _headers(zotero, topic, env)
    seeds: list[FileSeed] = []
    start = 0
    while True:
        params = {"format": "json", "limit": str(PAGE), "start": str(start)}
        response = client.get(url, params=params, accept=_ACCEPT, headers=headers)
        items = _items(response)
        seeds += [seed for seed in map(_seed, items) if seed is not None]
        start += len(items)
        total = int(response.headers.get("Total-Results", start) or start)
        if not items or start >= total:
            return seeds
