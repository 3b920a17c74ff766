"""`arxiv-radar init --github` as a user runs it, and the job summary a red run leaves behind."""

from __future__ import annotations

from pathlib import Path

import yaml

from arxiv_radar import __version__
from tests.test_pipeline import cli


def test_init_github_writes_a_pinned_workflow_and_ignores_the_database(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n", encoding="utf-8")
    result = cli("init", "--github", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    workflow = yaml.safe_load((tmp_path / ".github/workflows/arxiv-radar.yml").read_text("utf-8"))
    assert workflow["env"] == {
        "ARXIV_RADAR_VERSION": __version__,
        "CONFIG": "arxiv-radar.yml",
        "DATABASE": "arxiv-radar.db",
        "SITE_DIR": "docs",
    }
    ignored = (tmp_path / ".gitignore").read_text("utf-8").splitlines()
    assert ignored[0] == "node_modules/"
    assert {"/arxiv-radar.db", "/arxiv-radar.db-*", "/arxiv-radar.db.*", ".*.tmp"} <= set(ignored)
    assert "Added the database's entries to" in result.stdout


def test_init_github_twice_changes_nothing_and_says_so(tmp_path: Path) -> None:
    assert cli("init", "--github", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    again = cli("init", "--github", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exist(s)" in again.stderr and "--force" in again.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_init_github_follows_the_configs_own_paths(tmp_path: Path) -> None:
    config = tmp_path / "digest" / "radar.yml"
    config.parent.mkdir()
    config.write_text(
        "categories: [cs.CV]\ndatabase: cache/radar.db\noutput: {docs_dir: site}\n"
        "topics: [{name: T, query: 'ti:x'}]\n",
        encoding="utf-8",
    )
    result = cli("-c", "digest/radar.yml", "init", "--github", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Kept the existing digest/radar.yml" in result.stdout
    workflow = yaml.safe_load((tmp_path / ".github/workflows/arxiv-radar.yml").read_text("utf-8"))
    assert workflow["env"]["CONFIG"] == "digest/radar.yml"
    assert workflow["env"]["DATABASE"] == "digest/cache/radar.db"
    assert workflow["env"]["SITE_DIR"] == "digest/site"
    assert "/digest/cache/radar.db" in (tmp_path / ".gitignore").read_text("utf-8")


def test_a_command_that_cannot_start_says_why_in_the_job_summary(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text("categories: [cs.CV]\ntopics: 3\n", "utf-8")
    summary = tmp_path / "summary.md"
    result = cli("run", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 2
    text = summary.read_text("utf-8")
    assert text.startswith("### ❌ arxiv-radar run: not run\n")
    assert "topics" in text and "- **error:**" in text


def test_init_beside_a_readme_of_your_own_publishes_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# My project\n\nHand-written.\n", encoding="utf-8")
    result = cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "note: README.md is not an arxiv-radar digest" in result.stdout
    config = yaml.safe_load((tmp_path / "arxiv-radar.yml").read_text("utf-8"))
    assert config["output"]["readme"] == "DIGEST.md"
    assert (tmp_path / "README.md").read_text("utf-8") == "# My project\n\nHand-written.\n"


def test_init_github_force_refreshes_the_workflow_and_keeps_the_topics(tmp_path: Path) -> None:
    """How a digest upgrades its workflow: the config it edited must survive."""
    assert cli("init", "--github", cwd=tmp_path).returncode == 0
    mine = "categories: [cs.CV]\ntopics: [{name: Mine, query: 'ti:mine'}]\n"
    (tmp_path / "arxiv-radar.yml").write_text(mine, encoding="utf-8")
    workflow = tmp_path / ".github/workflows/arxiv-radar.yml"
    workflow.write_text("old workflow\n", encoding="utf-8")
    result = cli("init", "--github", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "arxiv-radar.yml").read_text("utf-8") == mine
    assert yaml.safe_load(workflow.read_text("utf-8"))["env"]["ARXIV_RADAR_VERSION"] == __version__
    assert "Kept the existing arxiv-radar.yml (`arxiv-radar init --force` overwrites it)" in (
        result.stdout
    )


def test_the_job_summary_of_a_failed_stage_cannot_carry_html_or_break_the_table() -> None:
    from arxiv_radar.job_summary import run_summary

    stats = {"fetch": {"per_topic": {"A | B": 2}}}
    errors = [{"stage": "notify", "error": "SMTP said <script>alert(1)</script> | *bold*"}]
    text = run_summary("run", "partial", stats, errors)
    assert "<script>" not in text and "| A \\| B | 2 |" in text
    assert text.splitlines()[0] == "### ❌ arxiv-radar run: partial"
    assert "- **notify failed:** SMTP said" in text


def test_a_kept_config_gets_no_note_about_where_it_publishes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# My project\n", encoding="utf-8")
    kept = "categories: [cs.CV]\noutput: {readme: README.md}\ntopics: [{name: T, query: 'ti:x'}]\n"
    (tmp_path / "arxiv-radar.yml").write_text(kept, "utf-8")
    result = cli("init", "--github", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Kept the existing arxiv-radar.yml" in result.stdout
    assert "DIGEST.md" not in result.stdout
