"""The enrich stage as the pipeline runs it: settings from the config, clients, providers, stats.

Providers are built before any stage runs, so a missing API key stops the run at once with a
clear message instead of after the fetch has already spent arXiv's patience.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from arxiv_radar.config import Workspace
from arxiv_radar.enrich._wire import ClientPool
from arxiv_radar.enrich.codelinks import CodeLinkSettings
from arxiv_radar.enrich.stage import Enrichers, EnrichSettings, build_enrichers, enrich
from arxiv_radar.enrich.summarize import SummarySettings
from arxiv_radar.enrich.translate import TranslationSettings
from arxiv_radar.errors import StageError
from arxiv_radar.http_budget import HttpSettings, RunBudget
from arxiv_radar.store import Store

__all__ = ["PreparedEnrich", "enrich_settings", "prepare_enrich"]

# Enrichment servers are not arXiv: they get their own pacing (per host family, see _wire).
_PROVIDER_INTERVAL = 0.2


def enrich_settings(workspace: Workspace) -> EnrichSettings:
    config = workspace.config
    endpoints = config.endpoints
    translation = config.translation
    summary = config.summary
    return EnrichSettings(
        code_enabled=config.code_links.enabled,
        code=CodeLinkSettings(
            finders=tuple(config.code_links.finders),
            hf_base=endpoints.hf_url,
            pwc_base=endpoints.pwc_url,
            github_api_base=endpoints.github_api_url,
            workers=config.code_links.workers,
            backlog_per_run=config.code_links.backlog_per_run,
        ),
        translation=TranslationSettings(
            provider=translation.provider,
            language=translation.language,
            base_url=translation.base_url,
            model=translation.model,
            api_key_env=translation.api_key_env,
            translate_title=translation.translate_title,
            glossary=dict(translation.glossary),
            budget_papers=translation.budget_papers,
            budget_chars=translation.budget_chars,
            timeout=translation.timeout,
        ),
        summary=SummarySettings(
            enabled=summary.enabled,
            provider=summary.provider,
            language=summary.language,
            base_url=summary.base_url,
            model=summary.model,
            api_key_env=summary.api_key_env,
            budget_papers=summary.budget_papers,
        ),
    )


@dataclass
class PreparedEnrich:
    settings: EnrichSettings
    enrichers: Enrichers
    pool: ClientPool

    def run(self, store: Store, *, now: datetime) -> dict[str, Any]:
        try:
            report = enrich(store, self.settings, self.enrichers, now=now)
        finally:
            self.pool.close()
        stats = asdict(report)
        stats["failures"] = stats["failures"][:50]  # the run record stays small on an outage
        stats["failed"] = len(report.failures)
        if report.misconfigured:
            # A refused key or a wrong base_url fails the stage: what did run stays recorded.
            failure = StageError(
                "; ".join(problem["error"] for problem in report.misconfigured),
                fix="; ".join(dict.fromkeys(problem["fix"] for problem in report.misconfigured)),
            )
            failure.partial = stats
            raise failure
        return stats


def prepare_enrich(
    workspace: Workspace,
    http: HttpSettings,
    env: Mapping[str, str] | None = None,
    *,
    texts: bool = True,
    budget: RunBudget | None = None,
) -> PreparedEnrich:
    """Build the providers now; raises UserError for a missing key or model. ``texts=False``
    leaves translations and TL;DRs out (code links and stars need no key)."""
    env = os.environ if env is None else env
    settings = enrich_settings(workspace)
    if not texts:
        settings = replace(
            settings,
            translation=replace(settings.translation, provider="none"),
            summary=replace(settings.summary, enabled=False),
        )
    interval = workspace.config.code_links.request_interval
    pool = ClientPool(
        replace(http, request_interval=_PROVIDER_INTERVAL),
        intervals=dict.fromkeys(("huggingface", "paperswithcode", "github"), interval),
        budget=budget,
    )
    try:
        enrichers = build_enrichers(
            settings, pool, env=env, github_token=env.get("GITHUB_TOKEN", "")
        )
    except BaseException:
        pool.close()
        raise
    return PreparedEnrich(settings=settings, enrichers=enrichers, pool=pool)
