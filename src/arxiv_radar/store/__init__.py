"""The SQLite store: the only package that speaks SQL.

Every paper is stored once (one row per arXiv id, without version) whatever the number of topics
it belongs to. One module per job (papers, topics, publishing, bib, enrichments, ranking,
deliveries, runs, meta) behind one connection and one transaction (:mod:`.core`); the schema's
statements in :mod:`.schema`, its named migrations in :mod:`.migrations`; the committed text
state in :mod:`.snapshot`.
"""

from arxiv_radar.store.core import Store
from arxiv_radar.store.migrations import MIGRATIONS, SCHEMA_VERSION
from arxiv_radar.store.papers import PROVISIONAL_SOURCE, UpsertResult
from arxiv_radar.store.ranking import RankedRow
from arxiv_radar.store.runs import RUN_STATUSES, RunRecord

__all__ = [
    "MIGRATIONS",
    "PROVISIONAL_SOURCE",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "RankedRow",
    "RunRecord",
    "Store",
    "UpsertResult",
]
