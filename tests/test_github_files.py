"""The GitHub files: the digest workflow `init --github` writes, the composite action, and the
project's own CI and release workflows.

What they *do* is tested by running them (``tests/test_workflow_journey.py``,
``tests/test_action_journey.py``); these tests hold the properties a reader checks by eye, and the
linters GitHub users run on them (actionlint, zizmor, shellcheck).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from arxiv_radar import __version__
from arxiv_radar.github_files import DigestPaths, gitignore_text, workflow_text

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
PATHS = DigestPaths(config="arxiv-radar.yml", database="arxiv-radar.db", site_dir="docs")


@pytest.fixture(scope="module")
def digest_workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow exactly as `init --github` writes it for the default config."""
    path = tmp_path_factory.mktemp("digest") / ".github" / "workflows" / "arxiv-radar.yml"
    path.parent.mkdir(parents=True)
    path.write_text(workflow_text(PATHS), encoding="utf-8")
    return path


FILES = ["digest", "action", "ci", "release"]


@pytest.fixture(params=FILES)
def github_file(request: pytest.FixtureRequest, digest_workflow: Path) -> Path:
    return {"digest": digest_workflow, "action": ACTION, "ci": CI, "release": RELEASE}[
        request.param
    ]


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """PyYAML reads the bare key ``on`` as the boolean True (YAML 1.1)."""
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


def steps(document: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"]["steps"]
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


def tool(name: str) -> str:
    """A linter from the venv (pip packages install their binaries next to python) or PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not installed")
    return found


def test_the_workflow_pins_the_release_that_wrote_it(digest_workflow: Path) -> None:
    workflow = load(digest_workflow)
    assert workflow["env"]["ARXIV_RADAR_VERSION"] == __version__
    assert not re.search(r"@[A-Z_]+@", digest_workflow.read_text(encoding="utf-8"))
    [install] = [s for s in steps(workflow) if "pip install" in s.get("run", "")]
    assert '"arxiv-radar[rank]==${ARXIV_RADAR_VERSION}"' in install["run"]


def test_the_workflow_uses_the_configs_paths() -> None:
    paths = DigestPaths(config="digest/radar.yml", database="digest/cache.db", site_dir="site")
    workflow = yaml.safe_load(workflow_text(paths))
    assert workflow["env"] == {
        "ARXIV_RADAR_VERSION": __version__,
        "CONFIG": "digest/radar.yml",
        "DATABASE": "digest/cache.db",
        "SITE_DIR": "site",
    }


def test_nothing_installs_a_floating_name(github_file: Path) -> None:
    """Every pip install names an exact version, a pinned variable or a local path."""
    for step in steps(load(github_file)):
        for line in step.get("run", "").splitlines():
            if "pip install" not in line:
                continue
            requirements = re.findall(r'"([^"$]+)"', line)
            assert all("==" in r for r in requirements), line
            assert "==$" in line or '"${ACTION_PATH}[rank]"' in line or requirements, line


def test_schedule_is_off_the_hour_and_can_be_run_by_hand(digest_workflow: Path) -> None:
    on = triggers(load(digest_workflow))
    assert "workflow_dispatch" in on
    [schedule] = on["schedule"]
    minute, hour, *_ = schedule["cron"].split()
    assert minute.isdigit() and int(minute) not in (0, 30)
    assert hour.isdigit()


def test_runs_never_overlap(digest_workflow: Path) -> None:
    workflow = load(digest_workflow)
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_permissions_are_least_privilege_per_job(digest_workflow: Path) -> None:
    workflow = load(digest_workflow)
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["update"]["permissions"] == {"contents": "read"}
    assert jobs["commit"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["keepalive"]["permissions"] == {"actions": "write"}
    assert all("timeout-minutes" in job for job in jobs.values())


def test_the_job_that_can_push_holds_no_api_keys(digest_workflow: Path) -> None:
    commit = load(digest_workflow)["jobs"]["commit"]
    assert "secrets." not in yaml.safe_dump(commit)
    runs_the_tool = re.compile(r"^\s*arxiv-radar\s", re.MULTILINE)
    assert not any(runs_the_tool.search(s.get("run", "")) for s in commit["steps"])


def test_secrets_reach_only_the_run_step_through_env(digest_workflow: Path) -> None:
    update = load(digest_workflow)["jobs"]["update"]
    with_secrets = [s for s in update["steps"] if "secrets." in yaml.safe_dump(s)]
    assert len(with_secrets) == 1
    [run] = with_secrets
    assert "arxiv-radar run" in run["run"]
    for name in ("DEEPSEEK_API_KEY", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"):
        assert run["env"][name] == f"${{{{ secrets.{name} }}}}"


def test_state_is_saved_and_committed_after_a_failed_stage(digest_workflow: Path) -> None:
    update = load(digest_workflow)["jobs"]["update"]
    names = [s["name"] for s in update["steps"]]
    after_run = update["steps"][names.index("Fetch, enrich, publish and notify") + 1 :]
    assert all("!cancelled()" in s.get("if", "") for s in after_run), after_run
    commit = load(digest_workflow)["jobs"]["commit"]
    assert "!cancelled()" in commit["if"]


def test_the_database_is_never_committed(digest_workflow: Path) -> None:
    jobs = load(digest_workflow)["jobs"]
    scripts = [s["run"] for s in steps({"jobs": jobs}) if "git add --all" in s.get("run", "")]
    assert len(scripts) == 2
    for script in scripts:
        assert 'git rm --cached --quiet --ignore-unmatch -- "$DATABASE"' in script


def test_site_is_deployed_to_pages(digest_workflow: Path) -> None:
    jobs = load(digest_workflow)["jobs"]
    uploads = [s for s in jobs["update"]["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert len(uploads) == 1
    deploy = jobs["deploy"]
    assert deploy["needs"] == ["update", "commit"]
    assert deploy["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages@" in s.get("uses", "") for s in deploy["steps"])


def test_keepalive_re_enables_the_workflow_through_the_api(digest_workflow: Path) -> None:
    job = load(digest_workflow)["jobs"]["keepalive"]
    assert "schedule" in job["if"]
    script = job["steps"][0]["run"]
    assert "--request PUT" in script
    assert re.search(
        r"/repos/\$\{GITHUB_REPOSITORY\}/actions/workflows/\$\{workflow\}/enable", script
    )


def test_checkouts_do_not_persist_credentials(github_file: Path) -> None:
    for step in steps(load(github_file)):
        if "actions/checkout@" in step.get("uses", ""):
            assert step["with"]["persist-credentials"] is False


def test_no_expressions_inside_run_scripts(github_file: Path) -> None:
    for step in steps(load(github_file)):
        assert "${{" not in step.get("run", ""), step.get("name")


def test_actions_are_pinned_by_full_sha_with_a_version_comment(github_file: Path) -> None:
    uses = [s["uses"] for s in steps(load(github_file)) if "uses" in s]
    assert uses
    assert all(PINNED.match(u) for u in uses), uses
    for line in github_file.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_release_publishes_through_trusted_publishing_on_a_version_tag() -> None:
    release = load(RELEASE)
    assert triggers(release) == {"push": {"tags": ["v*"]}}
    publish = release["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    [upload] = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert "with" not in upload, "no password or token: PyPI trusts the OIDC token"
    build = release["jobs"]["build"]["steps"]
    assert any("twine check --strict" in s.get("run", "") for s in build)


def test_release_build_tools_match_the_test_extra() -> None:
    """The tests run the release workflow with the test extra's tools: the pins must agree."""
    [install] = [s for s in steps(load(RELEASE)) if "pip install" in s.get("run", "")]
    pins = set(re.findall(r'"([\w-]+==[\w.]+)"', install["run"]))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert pins and all(f'"{pin}"' in pyproject for pin in pins), pins


def test_ci_runs_the_projects_ci_script() -> None:
    ci = load(CI)
    assert ci["permissions"] == {}
    assert any(".ci/run" in s.get("run", "") for s in steps(ci))


def test_action_inputs_and_steps() -> None:
    action = load(ACTION)
    inputs = action["inputs"]
    assert inputs["config"]["default"] == "arxiv-radar.yml"
    assert inputs["version"]["default"] == ""
    assert action["runs"]["using"] == "composite"
    [run] = [s for s in action["runs"]["steps"] if "arxiv-radar run" in s.get("run", "")]
    assert run["env"] == {"CONFIG": "${{ inputs.config }}"}
    assert all(s.get("shell") == "bash" for s in action["runs"]["steps"] if "run" in s)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ("", "# arxiv-radar: {h}\n/arxiv-radar.db\n/arxiv-radar.db-*\n/arxiv-radar.db.*\n.*.tmp\n"),
        ("node_modules/", "node_modules/\n\n# arxiv-radar: {h}\n/arxiv-radar.db\n"),
        ("/arxiv-radar.db\n", "/arxiv-radar.db\n\n# arxiv-radar: {h}\n/arxiv-radar.db-*\n"),
    ],
)
def test_gitignore_gains_only_what_is_missing(existing: str, expected: str) -> None:
    header = "the database is a cache rebuilt from state/, never committed"
    text = gitignore_text(existing, "arxiv-radar.db")
    assert text.startswith(expected.format(h=header))
    assert gitignore_text(text, "arxiv-radar.db") == text


def test_run_scripts_pass_shellcheck(github_file: Path) -> None:
    shellcheck = tool("shellcheck")
    for step in steps(load(github_file)):
        if "run" in step:
            done = subprocess.run(
                [shellcheck, "--shell=bash", "-"],
                input=step["run"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert done.returncode == 0, done.stdout


def test_actionlint_finds_nothing(digest_workflow: Path) -> None:
    actionlint = tool("actionlint")
    done = subprocess.run(
        [actionlint, "-no-color", str(digest_workflow), str(CI), str(RELEASE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("persona", ["pedantic", "auditor"])
def test_zizmor_finds_nothing(digest_workflow: Path, persona: str) -> None:
    zizmor = tool("zizmor")
    files = [str(digest_workflow), str(ACTION), str(CI), str(RELEASE)]
    done = subprocess.run(
        [zizmor, "--offline", f"--persona={persona}", "--no-progress", *files],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout
