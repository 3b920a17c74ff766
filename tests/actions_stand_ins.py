"""Local stand-ins for what a GitHub-hosted runner reaches: PyPI, the Actions cache, artifacts,
the repository, and a fresh Python on every job.

- :func:`build_wheel` and :class:`PackageIndex` make ``pip install arxiv-radar==X`` work exactly as
  the workflow writes it, against a PEP 503 index on 127.0.0.1 that holds only our wheel.
- :func:`runner_python` gives each job an empty virtual environment; the test's own dependencies
  are visible through a ``.pth`` file (never arxiv-radar itself), so pip installs arxiv-radar
  from the index and nothing else, with no network.
- :class:`ActionsCache` and :class:`Artifacts` implement the inputs and outputs of
  ``actions/cache/{restore,save}`` and ``actions/{upload,download}-artifact`` that the workflows
  use.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from tests.actions_runner import Runner, StepContext, StepFailed
from tests.servers.http import LocalServer, Reply

__all__ = [
    "ActionsCache",
    "Artifacts",
    "PackageIndex",
    "Repository",
    "build_wheel",
    "dependency_dir",
    "runner_python",
    "standard_handlers",
]

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(out: Path) -> Path:
    """The project's wheel, built from this checkout the way the release workflow builds it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return next(out.glob("arxiv_radar-*.whl"))


class PackageIndex:
    """``/simple/<project>/`` pages (PEP 503) for the wheels given; 404 for every other name."""

    def __init__(self, server: LocalServer, wheels: list[Path]) -> None:
        self.server = server
        self.requested: list[str] = []
        links = []
        for wheel in wheels:
            body = wheel.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            server.route("GET", f"/files/{wheel.name}", Reply(200, body, _BINARY))
            links.append(f'<a href="/files/{wheel.name}#sha256={digest}">{wheel.name}</a>')
        page = "<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>"
        server.route("GET", "/simple/arxiv-radar/", Reply(200, page, _HTML))

    @property
    def url(self) -> str:
        return f"{self.server.url}/simple"


_BINARY = {"Content-Type": "application/octet-stream"}
_HTML = {"Content-Type": "text/html"}


def dependency_dir(out: Path) -> Path:
    """The test environment's installed packages, arxiv-radar excluded, as one folder of links."""
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        name = entry.name.lower()
        if "arxiv_radar" in name or name.endswith(".pth") or name.startswith("__editable__"):
            continue
        (out / entry.name).symlink_to(entry)
    return out


def runner_python(base: Path, deps: Path) -> Path:
    """A new, empty virtual environment (a fresh runner's Python); returns its bin folder."""
    venv = base / "python"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "_runner_deps.pth").write_text(f"{deps}\n")
    return venv / "bin"


@dataclass
class ActionsCache:
    """Immutable entries by key; restore takes the exact key, else the newest prefix match."""

    folder: Path
    entries: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)

    def restore(self, step: StepContext) -> dict[str, str]:
        key = step.inputs["key"]
        prefixes = [p.strip() for p in step.inputs.get("restore-keys", "").splitlines()]
        found = key if key in self.entries else None
        for prefix in (p for p in prefixes if p and found is None):
            found = next((k for k in reversed(self.entries) if k.startswith(prefix)), None)
        self.hits.append(found or "")
        if found is None:
            return {"cache-hit": "false"}
        shutil.copy2(self.folder / found, step.workspace / step.inputs["path"])
        return {"cache-hit": "true" if found == key else "false", "cache-matched-key": found}

    def save(self, step: StepContext) -> None:
        key, source = step.inputs["key"], step.workspace / step.inputs["path"]
        if key in self.entries or not source.exists():
            return  # GitHub warns and goes on: a cache entry is never overwritten
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, self.folder / key)
        self.entries.append(key)

    def evict(self) -> None:
        """GitHub evicts caches unused for 7 days, or the oldest over 10 GB."""
        for key in self.entries:
            (self.folder / key).unlink()
        self.entries.clear()


@dataclass
class Artifacts:
    folder: Path
    uploaded: dict[str, Path] = field(default_factory=dict)

    def upload(self, step: StepContext) -> None:
        source = step.workspace / step.inputs["path"]
        target = self.folder / step.inputs["name"]
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        self.uploaded[step.inputs["name"]] = target

    def download(self, step: StepContext) -> None:
        name = step.inputs["name"]
        if name not in self.uploaded:
            raise StepFailed(f"Unable to download artifact(s): Artifact not found for name: {name}")
        shutil.copytree(
            self.uploaded[name], step.workspace / step.inputs["path"], dirs_exist_ok=True
        )


@dataclass
class Repository:
    """A bare repository standing in for github.com/<owner>/<name>."""

    bare: Path
    https_url: str  # what the workflow's scripts and actions/checkout use

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.bare,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def head(self) -> str:
        return self.git("rev-parse", "refs/heads/main")

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "refs/heads/main"))

    def checkout(self, step: StepContext, sha: str) -> None:
        """actions/checkout: a fresh clone at the run's commit, origin set to the https URL."""
        self.git("clone", "--quiet", str(self.bare), str(step.workspace), cwd=step.workspace.parent)
        self.git("checkout", "--quiet", "-B", "main", sha, cwd=step.workspace)
        self.git("remote", "set-url", "origin", self.https_url, cwd=step.workspace)

    def rewrite_env(self, token: str) -> dict[str, str]:
        """Git config (as environment) that sends the workflow's https URLs to the bare repo."""
        authed = self.https_url.replace("https://", f"https://x-access-token:{token}@", 1)
        return {
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": f"url.{self.bare}.insteadOf",
            "GIT_CONFIG_VALUE_0": authed + ".git",
            "GIT_CONFIG_KEY_1": f"url.{self.bare}.insteadOf",
            "GIT_CONFIG_VALUE_1": self.https_url,
            "GIT_CONFIG_NOSYSTEM": "1",
        }


def standard_handlers(
    runner: Runner, repo: Repository, sha: str, cache: ActionsCache, artifacts: Artifacts
) -> list[str]:
    """Register the stand-ins for the actions our workflows use; returns the Pages uploads."""
    pages: list[str] = []
    runner.handle("actions/checkout", lambda step: repo.checkout(step, sha))
    runner.handle("actions/setup-python", lambda step: None)
    runner.handle("actions/cache/restore", cache.restore)
    runner.handle("actions/cache/save", cache.save)
    runner.handle("actions/upload-artifact", artifacts.upload)
    runner.handle("actions/download-artifact", artifacts.download)
    runner.handle("actions/upload-pages-artifact", lambda step: pages.append(step.inputs["path"]))
    runner.handle("actions/deploy-pages", lambda step: {"page_url": "https://owner.github.io/d/"})
    return pages
