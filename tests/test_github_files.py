"""The composite action and the daily workflow template: the properties users rely on, plus the
linters GitHub users run on them (actionlint, zizmor, shellcheck) when they are installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "src" / "arxiv_radar" / "templates" / "github" / "workflow.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


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


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return load(WORKFLOW)


@pytest.fixture(scope="module")
def action() -> dict[Any, Any]:
    return load(ACTION)


def test_schedule_is_off_the_hour_and_can_be_run_by_hand(workflow: dict[Any, Any]) -> None:
    on = triggers(workflow)
    assert "workflow_dispatch" in on
    [schedule] = on["schedule"]
    minute, hour, *_ = schedule["cron"].split()
    assert minute.isdigit() and int(minute) not in (0, 30)
    assert hour.isdigit()


def test_runs_never_overlap(workflow: dict[Any, Any]) -> None:
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_permissions_are_least_privilege_per_job(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["update"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["keepalive"]["permissions"] == {"actions": "write"}
    assert all("timeout-minutes" in job for job in jobs.values())


def commit_script(workflow: dict[Any, Any]) -> str:
    [step] = [s for s in workflow["jobs"]["update"]["steps"] if "git commit" in s.get("run", "")]
    return str(step["run"])


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def test_commits_and_pushes_only_when_something_changed(
    workflow: dict[Any, Any], tmp_path: Path
) -> None:
    """Run the real step script against a local bare repository standing in for GitHub."""
    if shutil.which("git") is None or shutil.which("bash") is None:
        pytest.skip("git or bash not available")
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    git("clone", "--quiet", str(remote), str(work), cwd=tmp_path)
    (work / "README.md").write_text("old\n")
    git("add", "README.md", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "init", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GITHUB_TOKEN": "tok",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_REF_NAME": "main",
        # Send the https remote the script builds to the local bare repository instead.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{remote}.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://x-access-token:tok@github.example/owner/repo.git",
    }

    def run_step() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", commit_script(workflow)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    quiet = run_step()
    assert "Nothing changed" in quiet.stdout
    assert git("rev-list", "--count", "main", cwd=remote) == "1"

    (work / "README.md").write_text("new\n")
    (work / "arxiv-radar.db").write_bytes(b"SQLite format 3\x00")
    run_step()
    assert git("rev-list", "--count", "main", cwd=remote) == "2"
    assert git("log", "-1", "--format=%s", "main", cwd=remote).startswith("arxiv-radar: update ")
    assert git("show", "main:README.md", cwd=remote) == "new"
    assert "arxiv-radar.db" in git("ls-tree", "--name-only", "main", cwd=remote)


def test_database_is_kept_by_committing_it(workflow: dict[Any, Any]) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "arxiv-radar.db" in text
    assert "git add --all" in commit_script(workflow)


def test_site_is_deployed_to_pages(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    uploads = [s for s in jobs["update"]["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert len(uploads) == 1
    deploy = jobs["deploy"]
    assert deploy["needs"] == "update"
    assert deploy["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages@" in s.get("uses", "") for s in deploy["steps"])


def test_keepalive_re_enables_the_workflow_through_the_api(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["keepalive"]
    assert "schedule" in job["if"]
    script = job["steps"][0]["run"]
    assert "--request PUT" in script
    assert re.search(
        r"/repos/\$\{GITHUB_REPOSITORY\}/actions/workflows/\$\{workflow\}/enable", script
    )


def test_secrets_reach_the_run_through_env(workflow: dict[Any, Any]) -> None:
    [run] = [
        s for s in workflow["jobs"]["update"]["steps"] if "arxiv-radar run" in s.get("run", "")
    ]
    env = run["env"]
    for name in ("DEEPSEEK_API_KEY", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"):
        assert env[name] == f"${{{{ secrets.{name} }}}}"


def test_checkout_does_not_persist_credentials(workflow: dict[Any, Any]) -> None:
    [checkout] = [s for s in steps(workflow) if "actions/checkout@" in s.get("uses", "")]
    assert checkout["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", [ACTION, WORKFLOW], ids=["action", "workflow"])
def test_no_expressions_inside_run_scripts(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("path", [ACTION, WORKFLOW], ids=["action", "workflow"])
def test_actions_are_pinned_by_full_sha_with_a_version_comment(path: Path) -> None:
    uses = [s["uses"] for s in steps(load(path)) if "uses" in s]
    assert uses
    assert all(PINNED.match(u) for u in uses), uses
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_action_inputs_and_steps(action: dict[Any, Any]) -> None:
    inputs = action["inputs"]
    assert inputs["config"]["default"] == "arxiv-radar.yml"
    assert inputs["python-version"]["default"] == "3.12"
    assert inputs["version"]["default"] == ""
    assert action["runs"]["using"] == "composite"
    setup, install, run = action["runs"]["steps"]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert install["env"] == {
        "SPEC": "${{ inputs.version }}",
        "ACTION_PATH": "${{ github.action_path }}",
    }
    assert '"$ACTION_PATH"' in install["run"]
    assert run["env"] == {"CONFIG": "${{ inputs.config }}"}
    assert run["run"] == 'arxiv-radar run -c "$CONFIG"'
    assert all(s.get("shell") == "bash" for s in (install, run))


@pytest.mark.parametrize("path", [ACTION, WORKFLOW], ids=["action", "workflow"])
def test_run_scripts_pass_shellcheck(path: Path) -> None:
    shellcheck = tool("shellcheck")
    for step in steps(load(path)):
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


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    actionlint = tool("actionlint")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    shutil.copy(WORKFLOW, folder / "arxiv-radar.yml")
    done = subprocess.run(
        [actionlint, "-no-color", str(folder / "arxiv-radar.yml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = tool("zizmor")
    done = subprocess.run(
        [zizmor, "--offline", "--persona=pedantic", "--no-progress", str(WORKFLOW), str(ACTION)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout
