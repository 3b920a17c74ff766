"""Code and project links written in an abstract or an arXiv comment.

Authors write links in every shape: bare ``github.com/x/y``, ``\\url{...}``, ``\\href{...}{...}``,
Markdown, ``<...>``, followed by a full stop or a closing parenthesis. Repository links are
normalised to one canonical URL per repository so the same code is never listed twice; pages that
describe a project (``*.github.io``, "project page: ...") are kept apart from code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LinkFindings", "find_links_in_text", "normalise_repo_url"]

_TRAILING = ".,;:)]}>'\""
_WRAPPERS = (
    re.compile(r"\\url\{([^}]*)\}"),
    re.compile(r"\\href\{([^}]*)\}\{[^}]*\}"),
    re.compile(r"\[[^\]]*\]\(([^)\s]+)\)"),
)
_URL_RE = re.compile(
    r"(?:https?://|(?<![\w./@-])(?=(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|"
    r"codeberg\.org)/))[^\s<>\"'{}\\|^`]+",
    re.IGNORECASE,
)
_PROJECT_CONTEXT = re.compile(
    r"\b(?:project|homepage|website|webpage|site|demo)\b|\b(?:project|home|web)\s+page\b",
    re.IGNORECASE,
)
_NAME = r"[A-Za-z0-9_.-]+"
_GITHUB_LIKE = re.compile(
    rf"^(?:www\.)?(?P<host>github\.com|codeberg\.org)/(?P<owner>{_NAME})(?:/(?P<repo>{_NAME}))?",
    re.IGNORECASE,
)
_GITLAB = re.compile(r"^(?:www\.)?gitlab\.com/(?P<path>[^?#]+?)(?:/-/.*)?$", re.IGNORECASE)
_HF = re.compile(
    rf"^(?:www\.)?huggingface\.co/(?:(?P<kind>spaces|datasets)/)?(?P<owner>{_NAME})/(?P<name>{_NAME})",
    re.IGNORECASE,
)
_HF_NOT_REPOS = frozenset(
    {"papers", "docs", "blog", "learn", "collections", "posts", "organizations"}
)
_GITHUB_NOT_OWNERS = frozenset(
    {"about", "features", "orgs", "sponsors", "topics", "marketplace", "settings", "login"}
)


@dataclass(frozen=True)
class LinkFindings:
    """Canonical repository URLs and project-page URLs, each in order of first mention."""

    code: list[str] = field(default_factory=list)
    project: list[str] = field(default_factory=list)


def find_links_in_text(abstract: str, comment: str = "") -> LinkFindings:
    """Every code repository and project page the authors wrote down."""
    findings = LinkFindings()
    for text in (abstract, comment):
        _collect(_unwrap(text), findings)
    return findings


def normalise_repo_url(url: str) -> str | None:
    """The canonical ``https://host/owner/repo`` of a repository link; ``None`` if not one."""
    bare = re.sub(r"^https?://", "", url.strip().rstrip(_TRAILING), flags=re.IGNORECASE)
    for normaliser in (_github_like, _gitlab, _huggingface):
        result = normaliser(bare)
        if result is not None:
            return result
    return None


def _unwrap(text: str) -> str:
    """Replace LaTeX and Markdown link wrappers by their bare target, separated by spaces."""
    for pattern in _WRAPPERS:
        text = pattern.sub(lambda m: f" {m.group(1)} ", text)
    return text


def _collect(text: str, findings: LinkFindings) -> None:
    for match in _URL_RE.finditer(text):
        url = _strip_trailing(match.group(0))
        repo = normalise_repo_url(url)
        if repo is not None:
            _add(findings.code, repo)
        elif _is_project_page(url, text[max(0, match.start() - 40) : match.start()]):
            _add(findings.project, _with_scheme(url))


def _strip_trailing(url: str) -> str:
    return url.rstrip(_TRAILING)


def _with_scheme(url: str) -> str:
    return url if re.match(r"^https?://", url, re.IGNORECASE) else f"https://{url}"


def _add(target: list[str], url: str) -> None:
    if url.lower() not in {known.lower() for known in target}:
        target.append(url)


def _is_project_page(url: str, before: str) -> bool:
    """A github.io page, a bare GitHub owner page, or a link introduced as a project page."""
    host = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).split("/", 1)[0].lower()
    if host.endswith(".github.io") or host.endswith(".gitlab.io"):
        return True
    owner_page = _GITHUB_LIKE.match(re.sub(r"^https?://", "", url, flags=re.IGNORECASE))
    if owner_page is not None:
        owner = owner_page.group("owner").lower()
        return owner_page.group("repo") is None and owner not in _GITHUB_NOT_OWNERS
    return _PROJECT_CONTEXT.search(before) is not None


def _strip_git(name: str) -> str:
    return name[:-4] if name.lower().endswith(".git") else name


def _github_like(bare: str) -> str | None:
    match = _GITHUB_LIKE.match(bare)
    if match is None or match.group("repo") is None:
        return None
    owner, repo = match.group("owner"), _strip_git(match.group("repo")).rstrip(".")
    if owner.lower() in _GITHUB_NOT_OWNERS or not repo:
        return None
    return f"https://{match.group('host').lower()}/{owner}/{repo}"


def _gitlab(bare: str) -> str | None:
    match = _GITLAB.match(bare.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    parts = [p for p in match.group("path").split("/") if p]
    if len(parts) < 2:
        return None
    parts[-1] = _strip_git(parts[-1])
    return "https://gitlab.com/" + "/".join(parts)


def _huggingface(bare: str) -> str | None:
    match = _HF.match(bare)
    if match is None or match.group("owner").lower() in _HF_NOT_REPOS:
        return None
    kind = f"{match.group('kind').lower()}/" if match.group("kind") else ""
    return f"https://huggingface.co/{kind}{match.group('owner')}/{match.group('name')}"
