"""`arxiv-radar doctor`: check everything a daily run needs before cron finds out the hard way.

A tracker that stops silently is worse than one that fails loudly, so the doctor looks at each
precondition of a run in turn (the config, each endpoint, the secrets it names, the folders it
writes, the database) and says, for each, what to fix. Secrets are reported by the NAME of their
environment variable only: the doctor's output is meant to be pasted into bug reports.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import httpx

from arxiv_radar.config import RadarConfig, Workspace, load_workspace
from arxiv_radar.enrich.run import enrich_settings
from arxiv_radar.enrich.summarize import resolve_summary_settings
from arxiv_radar.enrich.translate import (
    DEFAULT_BASE_URLS,
    DEFAULT_KEY_ENVS,
    TranslationSettings,
    make_translator,
    misconfiguration,
)
from arxiv_radar.errors import ArxivRadarError, ConfigError, FetchError, UserError
from arxiv_radar.http import HttpStatusError, PoliteClient, redact_url
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.secrets import secret_variables
from arxiv_radar.sources.arxiv_api import ACCEPT as API_ACCEPT
from arxiv_radar.sources.arxiv_api import parse_feed
from arxiv_radar.sources.listing import ACCEPT as RSS_ACCEPT
from arxiv_radar.sources.listing import listing_url, parse_listing
from arxiv_radar.store import SCHEMA_VERSION, Store
from arxiv_radar.store.snapshot import MANIFEST, StateComparison, compare_state

__all__ = ["Check", "DoctorReport", "run_doctor", "secret_variables"]

log = logging.getLogger(__name__)

# A probe must answer fast: a hung endpoint is itself the finding.
PROBE_TIMEOUT = 10.0
PROBE_QUERY = {"search_query": "all:electron", "max_results": "1"}
PROBE_TEXT = "Hello"  # what the doctor asks a translation or TL;DR server to translate

Severity = Literal["setup", "network"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table; ``severity`` decides the exit code when it fails."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    severity: Severity = "setup"


@dataclass(frozen=True)
class DoctorReport:
    checks: list[Check]

    @property
    def exit_code(self) -> int:
        """2 when the user must change something, 1 when only the network failed, else 0."""
        failed = {check.severity for check in self.checks if not check.ok}
        if "setup" in failed:
            return 2
        return 1 if failed else 0


def run_doctor(
    config_path: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DoctorReport:
    """Run every check; a config that does not load stops the others (they would all guess)."""
    env = os.environ if env is None else env
    try:
        workspace = load_workspace(config_path, env=env, cwd=cwd)
    except ConfigError as err:
        return DoctorReport([Check("config", False, err.message, err.fix or _CONFIG_FIX)])
    where = str(workspace.path) if workspace.path else "built-in default config"
    checks = [Check("config", True, f"{where} loads ({len(workspace.config.topics)} topics)")]
    checks += _endpoint_checks(workspace.config, transport)
    checks += _enrichment_checks(workspace.config, env, transport)
    checks += _text_checks(workspace, env, transport)
    checks += _secret_checks(workspace.config, env)
    checks += _folder_checks(workspace)
    checks.append(_database_check(workspace.database))
    checks.append(_state_check(workspace))
    return DoctorReport(checks)


_CONFIG_FIX = "edit the config file, or start again from `arxiv-radar init`"


# --- endpoints ---------------------------------------------------------------------------------


def _endpoint_checks(config: RadarConfig, transport: httpx.BaseTransport | None) -> list[Check]:
    """One cheap GET per endpoint on one paced client: arXiv's interval spans all its hosts."""
    settings = HttpSettings(
        request_interval=config.http.request_interval,
        timeout=min(config.http.timeout, PROBE_TIMEOUT),
        max_retries=0,
    )
    probes: list[tuple[str, Callable[[PoliteClient], str]]] = [
        ("arXiv API", lambda client: _probe_api(client, config.endpoints.api_url)),
        ("arXiv RSS listing", lambda client: _probe_rss(client, config)),
    ]
    with PoliteClient(settings, transport=transport) as client:
        return [_probe(name, client, probe) for name, probe in probes]


def _probe(name: str, client: PoliteClient, probe: Callable[[PoliteClient], str]) -> Check:
    try:
        detail = probe(client)
    except ArxivRadarError as err:
        log.debug("%s probe failed: %s", name, err)
        fix = err.fix or "check the endpoint URL in the config"
        return Check(name, False, err.message, fix, severity="network")
    return Check(name, True, detail)


def _probe_api(client: PoliteClient, url: str) -> str:
    response = client.get(url, params=PROBE_QUERY, accept=API_ACCEPT)
    page = parse_feed(response.content, url=redact_url(str(response.url)))
    return f"{redact_url(url)} answers ({page.total} results for a test query)"


def _probe_rss(client: PoliteClient, config: RadarConfig) -> str:
    url = listing_url(config.endpoints.rss_url, config.categories)
    listing = parse_listing(client.get(url, accept=RSS_ACCEPT).content, url=url)
    day = listing.announced.isoformat() if listing.announced else "no date"
    return f"{redact_url(url)} answers ({len(listing.items)} items, {day})"


def _enrichment_urls(config: RadarConfig, env: Mapping[str, str]) -> dict[str, str]:
    """The enrichment servers this config will call, by label: only the enabled ones."""
    endpoints = config.endpoints
    urls: dict[str, str] = {}
    if config.code_links.enabled:
        if "huggingface" in config.code_links.finders:
            urls["Hugging Face"] = endpoints.hf_url
        if "paperswithcode" in config.code_links.finders:
            urls["Papers with Code"] = endpoints.pwc_url
        if env.get("GITHUB_TOKEN", "").strip():
            urls["GitHub API"] = endpoints.github_api_url
    return urls


def _enrichment_checks(
    config: RadarConfig, env: Mapping[str, str], transport: httpx.BaseTransport | None
) -> list[Check]:
    """Reachability only: any HTTP answer will do; these bases need keys and paths to say more."""
    urls = _enrichment_urls(config, env)
    if not urls:
        return []
    settings = HttpSettings(
        request_interval=config.code_links.request_interval,
        timeout=min(config.http.timeout, PROBE_TIMEOUT),
        max_retries=0,
    )
    with PoliteClient(settings, transport=transport) as client:
        return [_probe(label, client, partial(_probe_any, url=url)) for label, url in urls.items()]


def _probe_any(client: PoliteClient, url: str) -> str:
    try:
        response = client.get(url, accept="*/*")
        status = response.status_code
    except HttpStatusError as err:
        status = err.status_code
    return f"{redact_url(url)} answers (HTTP {status})"


def _text_providers(workspace: Workspace) -> list[tuple[str, str, TranslationSettings]]:
    """(label, config section, settings) of the translation and TL;DR servers in use."""
    settings = enrich_settings(workspace)
    providers = []
    if settings.translation.provider != "none":
        providers.append(("translation", "translation", settings.translation))
    if settings.summary.enabled:
        summary = resolve_summary_settings(settings.summary, settings.translation)
        as_chat = TranslationSettings(
            provider=summary.provider,
            language=summary.language,
            base_url=summary.base_url,
            model=summary.model,
            api_key_env=summary.api_key_env,
        )
        providers.append(("summaries", "summary", as_chat))
    return providers


def _text_checks(
    workspace: Workspace, env: Mapping[str, str], transport: httpx.BaseTransport | None
) -> list[Check]:
    """One real, tiny request per text provider: a server that refuses the key or has no such
    API is a problem to fix, not "ok (HTTP 501)"."""
    providers = _text_providers(workspace)
    if not providers:
        return []
    timeout = min(workspace.config.http.timeout, PROBE_TIMEOUT)
    settings = HttpSettings(request_interval=0, timeout=timeout, max_retries=0)
    with PoliteClient(settings, transport=transport) as client:
        return [_probe_text(label, section, s, client, env) for label, section, s in providers]


def _probe_text(
    label: str,
    section: str,
    settings: TranslationSettings,
    client: PoliteClient,
    env: Mapping[str, str],
) -> Check:
    try:
        translator = make_translator(settings, client, env)
    except UserError as err:
        return Check(label, False, f"not probed: {err.message}", err.fix)
    assert translator is not None, "the provider is not none"
    base = redact_url(settings.base_url or DEFAULT_BASE_URLS[settings.provider])
    try:
        translator.translate([PROBE_TEXT], target=settings.language)
    except FetchError as err:
        key_env = settings.api_key_env or DEFAULT_KEY_ENVS.get(settings.provider, "")
        problem = misconfiguration(err, section=section, key_env=key_env)
        if problem is not None:
            return Check(label, False, problem.message, problem.fix)
        return Check(label, False, err.message, err.fix or _TEXT_FIX, severity="network")
    return Check(label, True, f"{base} ({settings.provider}) translated a test word")


_TEXT_FIX = "the server may be down; the next run retries, or check the base_url"


# --- secrets -----------------------------------------------------------------------------------


def _needed_secrets(config: RadarConfig) -> list[tuple[str, str]]:
    needed = list(secret_variables(config))
    translation = config.translation
    default = DEFAULT_KEY_ENVS.get(translation.provider, "")
    if default and not translation.api_key_env:
        needed.append(("translation.provider", default))
    return needed


def _secret_checks(config: RadarConfig, env: Mapping[str, str]) -> list[Check]:
    needed = _needed_secrets(config)
    if not needed:
        return [Check("secrets", True, "no configured provider needs a token")]
    return [
        Check(f"secret {variable}", True, f"set (for {key})")
        if env.get(variable, "").strip()
        else Check(
            f"secret {variable}",
            False,
            f"{key} names {variable}, which is not set",
            f"export {variable}=... (in GitHub Actions: add it as a repository secret)",
        )
        for key, variable in needed
    ]


# --- folders and database ----------------------------------------------------------------------


def _folder_checks(workspace: Workspace) -> list[Check]:
    output = workspace.config.output
    targets = {
        "database folder": workspace.database.parent,
        "README folder": workspace.resolve(output.readme).parent,
        "docs folder": workspace.resolve(output.docs_dir),
    }
    return [_writable(name, folder) for name, folder in targets.items()]


def _writable(name: str, folder: Path) -> Check:
    """Probe with a real file: permission bits lie (root, ACLs, read-only mounts)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        return Check(
            name,
            False,
            f"{folder} cannot be created: {existing} is not a folder",
            "point the config at a folder path",
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        return Check(
            name,
            False,
            f"cannot write in {existing}: {err.strerror or err}",
            f"make {existing} writable for this user",
        )
    state = "writable" if existing == folder else f"will be created in {existing}"
    return Check(name, True, f"{folder} {state}")


def _database_check(path: Path) -> Check:
    """Opened read-only (the doctor never migrates or writes it) and checked page by page."""
    if not path.exists():
        return Check("database", True, f"{path} does not exist yet; the first run creates it")
    try:
        with Store.open(path, readonly=True) as store:
            damage = store.quick_check()
            if damage:
                return Check(
                    "database",
                    False,
                    f"{path} is damaged: PRAGMA quick_check says {'; '.join(damage[:3])}",
                    "restore the file from a backup, or move it away to start a new store",
                )
            pending = store.pending_migrations
            papers = store.paper_count() if store.schema_version else 0
            runs = store.recent_runs(1) if store.schema_version else []
    except ArxivRadarError as err:
        return Check("database", False, err.message, err.fix)
    last = f", last run {runs[0].status}" if runs else ""
    later = f", {len(pending)} migration(s) for the next run to apply" if pending else ""
    return Check(
        "database",
        True,
        f"{path}: schema version {SCHEMA_VERSION - len(pending)}{later}, {papers} papers{last}, "
        "integrity ok",
    )


_SHOWN_DIFFERENCES = 5


def _state_check(workspace: Workspace) -> Check:
    """The committed state: each file against the manifest, and the shards against the store."""
    state, database = workspace.state_dir, workspace.database
    manifest = state / MANIFEST
    if not manifest.exists():
        return Check("state", True, f"{state} has no state yet; the next run writes it")
    if not database.exists():
        return Check(
            "state", True, f"{database} does not exist; the next run builds it from {state}"
        )
    try:
        with Store.open(database) as store:
            found = compare_state(store, state)
    except ArxivRadarError as err:
        return Check("state", False, err.message, err.fix)
    if not found.differences:
        detail = f"{state}: {found.checked} files match the manifest and the database"
        return Check("state", True, detail)
    shown = "; ".join(f"{d.name}: {d.problem}" for d in found.differences[:_SHOWN_DIFFERENCES])
    more = len(found.differences) - _SHOWN_DIFFERENCES
    detail = f"{state}: {shown}" + (f"; and {more} more" if more > 0 else "")
    return Check("state", False, detail, _state_fix(state, found))


def _state_fix(state: Path, found: StateComparison) -> str:
    """Files that disagree with their manifest were edited or half restored: git has them. A
    store that loaded another manifest is rebuilt by the next run; otherwise it holds changes
    the next run exports."""
    if any("manifest" in d.problem for d in found.differences):
        return f"restore the state from git: git checkout -- {state}"
    if found.stale:
        return "the database is stale: `arxiv-radar publish` rebuilds it from the state"
    return "the database has changes not exported yet: `arxiv-radar publish` writes them"
