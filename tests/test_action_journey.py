"""The README's composite-action example and the release workflow, executed like on GitHub.

The example workflow is taken from the README as written (only its ``<commit-sha>`` placeholder
is filled); ``uses: arxiv-radar/arxiv-radar@...`` runs the steps of this checkout's ``action.yml``,
which installs arxiv-radar from the action's own files. The release workflow builds the sdist and
the wheel from this checkout, checks them with twine, and hands them to the publish job.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from arxiv_radar import __version__
from arxiv_radar.listings import latest_listing_day
from tests.actions_runner import JobResult, Runner, StepContext
from tests.actions_stand_ins import (
    ActionsCache,
    Artifacts,
    PackageIndex,
    Repository,
    dependency_dir,
    runner_python,
    standard_handlers,
)
from tests.servers.arxiv import FakeArxiv, make_paper, submitted_for
from tests.servers.http import LocalServer, local_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = re.compile(r"<!-- action-example:start -->\n```yaml\n(.*?)```", re.DOTALL)
SHA = "0123456789abcdef0123456789abcdef01234567"
CONFIG = """\
repository: owner/digest
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  enabled: false
site:
  enabled: false
endpoints:
  api_url: {base}/api/query
  rss_url: {base}/rss
http:
  request_interval: 0
  max_retries: 0
"""


def _source_tree(into: Path) -> Path:
    """This checkout's files as a fresh clone of it would hold them."""
    ignored = shutil.ignore_patterns(
        ".git", ".venv*", "__pycache__", ".*_cache", ".hypothesis", "*.egg-info", "dist", "build"
    )
    shutil.copytree(ROOT, into, ignore=ignored)
    return into


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dependency_dir(tmp_path_factory.mktemp("deps"))


def _runner(
    workflow: dict[str, Any], base: Path, deps: Path, server: LocalServer, **github: str
) -> Runner:
    machine_env = {
        "PATH": f"{runner_python(base, deps)}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(base),
        "LANG": "C.UTF-8",
        "PIP_INDEX_URL": f"{server.url}/simple",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        # The local index holds no build backend: build with the one the test environment has.
        "PIP_NO_BUILD_ISOLATION": "false",
    }
    defaults = {"token": "ghs_x", "run_id": "7", "event_name": "schedule", "ref_name": "main"}
    return Runner(
        workflow,
        root=base / "runner",
        machine_env=machine_env,
        github={**defaults, "repository": "owner/digest", **github},
        secrets={"SMTP_PASSWORD": "unused"},
    )


@pytest.fixture
def digest(tmp_path: Path) -> Iterator[tuple[Repository, LocalServer, FakeArxiv]]:
    with local_server() as server:
        arxiv = FakeArxiv(server, ["cs.CV"])
        day = latest_listing_day(datetime.now(timezone.utc))
        arxiv.announce(
            day,
            new=[
                make_paper("2611.00001", "Gaussian splatting", published=submitted_for(day)),
                make_paper("2611.00002", "Object detection", published=submitted_for(day)),
            ],
        )
        bare = tmp_path / "remote.git"
        repo = Repository(bare, "https://github.example/owner/digest")
        repo.git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
        work = tmp_path / "setup"
        work.mkdir()
        (work / "arxiv-radar.yml").write_text(CONFIG.format(base=server.url), encoding="utf-8")
        repo.git("init", "--quiet", "--initial-branch=main", cwd=work)
        repo.git("add", "--all", cwd=work)
        repo.git("-c", "user.name=u", "-c", "user.email=u@e", "commit", "-qm", "init", cwd=work)
        repo.git("push", "--quiet", str(bare), "HEAD:main", cwd=work)
        yield repo, server, arxiv


def _example_workflow() -> dict[str, Any]:
    found = EXAMPLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README's action example is marked with <!-- action-example:start -->"
    text = found.group(1).replace("<commit-sha>", SHA)
    workflow = yaml.safe_load(text)
    assert isinstance(workflow, dict)
    return workflow


def _run_example(
    tmp_path: Path, deps: Path, digest: tuple[Repository, LocalServer, FakeArxiv], name: str
) -> tuple[dict[str, JobResult], ActionsCache]:
    repo, server, _ = digest
    workflow = _example_workflow()
    base = tmp_path / name
    runner = _runner(workflow, base, deps, server, sha=repo.head())
    runner.machine_env.update(repo.rewrite_env("ghs_x"))
    runner.composite("arxiv-radar/arxiv-radar", _source_tree(base / "action"))
    cache = ActionsCache(base / "cache")
    standard_handlers(runner, repo, repo.head(), cache, Artifacts(base / "artifacts"))
    results = runner.run()
    assert runner.skipped_uses == []
    return results, cache


def test_the_readme_action_example_runs_and_commits_the_digest(
    tmp_path: Path, deps: Path, digest: tuple[Repository, LocalServer, FakeArxiv]
) -> None:
    repo = digest[0]
    before = repo.commits()
    results, cache = _run_example(tmp_path, deps, digest, "first")
    job = results["digest"]
    assert job.result == "success", [(s.name, s.output[-2000:]) for s in job.steps]
    assert repo.commits() == before + 1
    readme = repo.git("show", "main:README.md", cwd=repo.bare)
    assert "2611.00001" in readme and "2611.00002" not in readme
    assert "arxiv-radar.db" not in repo.git("ls-tree", "-r", "--name-only", "main", cwd=repo.bare)
    assert cache.entries == ["arxiv-radar-db-7"], "the action saved the database"


def test_the_action_refuses_a_floating_version(
    tmp_path: Path, deps: Path, digest: tuple[Repository, LocalServer, FakeArxiv]
) -> None:
    repo, server, _ = digest
    workflow = _example_workflow()
    steps = workflow["jobs"]["digest"]["steps"]
    [step] = [s for s in steps if "arxiv-radar/" in s.get("uses", "")]
    step["with"]["version"] = "latest"
    base = tmp_path / "floating"
    runner = _runner(workflow, base, deps, server, sha=repo.head())
    runner.machine_env.update(repo.rewrite_env("ghs_x"))
    runner.composite("arxiv-radar/arxiv-radar", _source_tree(base / "action"))
    standard_handlers(runner, repo, repo.head(), ActionsCache(base / "c"), Artifacts(base / "a"))
    job = runner.run()["digest"]
    assert job.result == "failure"
    [action] = [s for s in job.steps if s.uses.startswith("arxiv-radar/")]
    assert "version must be an exact release such as 0.1.0, not 'latest'" in action.output


# --- the release workflow -------------------------------------------------------------------


def test_a_version_tag_builds_checks_and_publishes_both_distributions(
    tmp_path: Path, deps: Path
) -> None:
    results, uploaded = _release_at_root(tmp_path, deps, f"v{__version__}")
    assert results["build"].result == "success", [
        (s.name, s.output[-2000:]) for s in results["build"].steps
    ]
    assert results["publish"].result == "success"
    names = sorted(path.name for path in uploaded)
    assert names == [
        f"arxiv_radar-{__version__}-py3-none-any.whl",
        f"arxiv_radar-{__version__}.tar.gz",
    ]
    with zipfile.ZipFile(next(p for p in uploaded if p.suffix == ".whl")) as wheel:
        assert "arxiv_radar/templates/github/workflow.yml" in wheel.namelist()
    with tarfile.open(next(p for p in uploaded if p.name.endswith(".tar.gz"))) as sdist:
        assert any(name.endswith("/README.md") for name in sdist.getnames())
    assert "PASSED" in results["build"].step("Check the distributions").output


def test_a_tag_that_is_not_the_version_publishes_nothing(tmp_path: Path, deps: Path) -> None:
    results, uploaded = _release_at_root(tmp_path, deps, "v99.0.0")
    assert results["build"].result == "failure"
    assert "must agree" in results["build"].step("The tag names the package's version").output
    assert results["publish"].result == "skipped"
    assert uploaded == []


def _release_at_root(
    tmp_path: Path, deps: Path, tag: str
) -> tuple[dict[str, JobResult], list[Path]]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text("utf-8"))
    uploaded: list[Path] = []
    with local_server() as server:
        PackageIndex(server, [])
        runner = _runner(workflow, tmp_path, deps, server, ref_name=tag, event_name="push")
        artifacts = Artifacts(tmp_path / "artifacts")

        def checkout(step: StepContext) -> None:
            tree = _source_tree(step.temp / "tree")
            for entry in tree.iterdir():
                shutil.move(str(entry), step.workspace / entry.name)

        def publish(step: StepContext) -> None:  # PyPI's side of trusted publishing
            uploaded.extend(sorted((step.workspace / "dist").iterdir()))

        runner.handle("actions/checkout", checkout)
        runner.handle("actions/setup-python", lambda step: None)
        runner.handle("actions/upload-artifact", artifacts.upload)
        runner.handle("actions/download-artifact", artifacts.download)
        runner.handle("pypa/gh-action-pypi-publish", publish)
        return runner.run(), uploaded
