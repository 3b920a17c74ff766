"""arXiv's category codes, so a typo in the config is caught before a day of papers is lost.

The list is arXiv's current taxonomy (https://arxiv.org/category_taxonomy) plus the archive names
that work as whole-archive listings (``cs``, ``math``, ...).
"""

from __future__ import annotations

import difflib

__all__ = ["ARCHIVES", "CATEGORIES", "is_known", "suggest"]

_GROUPS: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE "
    "NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph "
    "flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
_STANDALONE = (
    "gr-qc",
    "hep-ex",
    "hep-lat",
    "hep-ph",
    "hep-th",
    "math-ph",
    "nucl-ex",
    "nucl-th",
    "quant-ph",
)

ARCHIVES: frozenset[str] = frozenset(_GROUPS)
CATEGORIES: frozenset[str] = frozenset(
    [f"{group}.{sub}" for group, subs in _GROUPS.items() for sub in subs.split()]
    + list(_STANDALONE)
)
_BY_LOWER = {code.lower(): code for code in CATEGORIES | ARCHIVES}


def is_known(code: str) -> bool:
    """True for a category (``cs.CV``) or an archive usable as a listing (``cs``)."""
    return code in CATEGORIES or code in ARCHIVES


def suggest(code: str) -> str | None:
    """The code the user most likely meant: a case fix (``cs.cv``) or the closest spelling."""
    if code.lower() in _BY_LOWER:
        return _BY_LOWER[code.lower()]
    close = difflib.get_close_matches(code, sorted(CATEGORIES | ARCHIVES), n=1, cutoff=0.6)
    return close[0] if close else None
