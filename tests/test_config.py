"""Bad config input: every mistake is reported as a line naming the file, the line and the key,
saying what is wrong and how to fix it; the CLI exits 2 without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxiv_radar.config import load_workspace
from arxiv_radar.errors import ConfigError, UserError
from tests.test_pipeline import cli

TOPIC = "topics: [{name: A, query: 'ti:a'}]\n"

# name -> (config text, fragments that the single problem line must contain)
PROBLEMS: dict[str, tuple[str, list[str]]] = {
    "unclosed list": (
        "categories: [cs.CV\ntopics: x\n",
        ["line 2, column 7", "invalid YAML"],
    ),
    "bad indentation": (
        "categories: [cs.CV]\ntopics:\n  - name: A\n   query: x\n",
        ["line 4", "invalid YAML"],
    ),
    "not a mapping": ("- cs.CV\n- cs.LG\n", ["must be a mapping"]),
    "unknown top-level key": (
        "categories: [cs.CV]\n" + TOPIC + "lookback: 3\n",
        ["line 3, lookback: unknown key 'lookback'", "did you mean 'lookback_days'?"],
    ),
    "unknown nested key": (
        "categories: [cs.CV]\n" + TOPIC + "http:\n  timout: 3\n",
        ["line 4, http.timout: unknown key 'timout'", "did you mean 'timeout'?"],
    ),
    "unknown key in a topic": (
        "categories: [cs.CV]\ntopics:\n  - name: A\n    qeury: 'ti:a'\n",
        ["line 4, topics[0].qeury", "did you mean 'query'?"],
    ),
    "unknown key without a close match": (
        "categories: [cs.CV]\n" + TOPIC + "site:\n  zzz: 1\n",
        ["site.zzz", "known keys: enabled, title, url"],
    ),
    "a string where a list goes": (
        "categories: cs.CV\n" + TOPIC,
        ["line 1, categories", "valid list", "(got 'cs.CV')"],
    ),
    "a word where a number goes": (
        "categories: [cs.CV]\n" + TOPIC + "output:\n  readme_rows: many\n",
        ["line 4, output.readme_rows", "valid integer", "(got 'many')"],
    ),
    "a number out of range": (
        "categories: [cs.CV]\n" + TOPIC + "lookback_days: 0\n",
        ["line 3, lookback_days", "greater than or equal to 1"],
    ),
    "not a boolean": (
        "categories: [cs.CV]\n" + TOPIC + "site:\n  enabled: perhaps\n",
        ["line 4, site.enabled", "valid boolean", "(got 'perhaps')"],
    ),
    "unknown column": (
        "categories: [cs.CV]\n" + TOPIC + "output:\n  columns: [date, stars]\n",
        ["line 4, output.columns[1]", "'tldr'"],
    ),
    "broken query": (
        "categories: [cs.CV]\ntopics:\n  - name: A\n    query: 'ti:a AND (b OR'\n",
        ["line 4, topics[0].query", "invalid query", "at position 12", "put a term after OR"],
    ),
    "unknown category": (
        "categories: [cs.CVV]\n" + TOPIC,
        ["line 1, categories", "unknown arXiv category 'cs.CVV'", "did you mean 'cs.CV'?"],
    ),
    "unknown topic category": (
        "categories: [cs.CV]\ntopics: [{name: A, query: 'ti:a', categories: [cs.XY]}]\n",
        ["line 2, topics[0].categories", "'cs.XY'", "did you mean"],
    ),
    "bad time zone": (
        "categories: [cs.CV]\ntimezone: Mars/Olympus\n" + TOPIC,
        ["line 2, timezone", "unknown time zone 'Mars/Olympus'", "IANA name"],
    ),
    "duplicate topic names": (
        "categories: [cs.CV]\ntopics:\n  - {name: Splats, query: 'ti:a'}\n"
        "  - {name: splats, query: 'ti:b'}\n",
        ["line 2, topics", "two topics are named 'splats'", "must be unique"],
    ),
    "query and keywords": (
        "categories: [cs.CV]\ntopics: [{name: A, query: 'ti:a', keywords: [x]}]\n",
        ["topics[0]", "exactly one of 'query' or 'keywords'"],
    ),
    "blank keyword": (
        "categories: [cs.CV]\ntopics: [{name: A, keywords: ['  ']}]\n",
        ["topics[0].keywords", "must not be empty"],
    ),
    "endpoint that is not http": (
        "categories: [cs.CV]\n" + TOPIC + "endpoints:\n  api_url: ftp://mirror\n",
        ["line 4, endpoints.api_url", "is not an http(s) URL"],
    ),
    "required key missing": (TOPIC, ["categories: this key is required"]),
    "topic categories none of which is watched": (
        "categories: [cs.CV]\ntopics:\n  - name: Robots\n    query: 'ti:robot'\n"
        "    categories: [cs.RO, eess.SY]\n",
        [
            "line 5, topics[0].categories",
            "'Robots' is limited to cs.RO, eess.SY",
            "none of which is in the watched categories (cs.CV)",
        ],
    ),
}


def load_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    path = tmp_path / "radar.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_workspace(path, env=env or {})
    return caught.value


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_each_mistake_is_one_line_naming_file_place_and_problem(tmp_path: Path, name: str) -> None:
    text, fragments = PROBLEMS[name]
    error = load_error(tmp_path, text)
    assert isinstance(error, UserError)
    (line,) = error.message.splitlines()
    assert line.startswith(f"{tmp_path / 'radar.yml'}")
    for fragment in fragments:
        assert fragment in line


def test_topic_categories_not_watched_say_how_to_fix_them(tmp_path: Path) -> None:
    text, _ = PROBLEMS["topic categories none of which is watched"]
    error = load_error(tmp_path, text)
    assert "add the topic's categories to the top-level `categories`" in error.fix


@pytest.mark.parametrize(
    ("watched", "topic"),
    [("[cs.CV]", "[cs.CV, cs.GR]"), ("[cs]", "[cs.RO]"), ("[cs.CV]", "[cs]"), ("[cs.CV]", "[]")],
)
def test_topic_categories_carried_by_a_watched_listing_are_accepted(
    tmp_path: Path, watched: str, topic: str
) -> None:
    path = tmp_path / "radar.yml"
    path.write_text(
        f"categories: {watched}\ntopics: [{{name: A, query: 'ti:a', categories: {topic}}}]\n",
        encoding="utf-8",
    )
    assert load_workspace(path, env={}).config.topics[0].name == "A"


def test_all_problems_are_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        "categories: [cs.CVV]\n"
        "timezone: Nowhere\n"
        "topics:\n"
        "  - name: A\n"
        "    query: 'ti:(a'\n"
        "http:\n"
        "  max_retries: lots\n"
    )
    lines = load_error(tmp_path, text).message.splitlines()
    assert [line.split(", ")[1] for line in lines] == ["line 1", "line 2", "line 5", "line 7"]


def test_an_empty_file_asks_for_the_required_keys(tmp_path: Path) -> None:
    lines = load_error(tmp_path, "").message.splitlines()
    assert [line.split(", ", 1)[1] for line in lines] == [
        "categories: this key is required",
        "topics: this key is required",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ARXIV_RADAR_REQUEST_INTERVAL", "soon", "unable to parse string as a number"),
        ("ARXIV_RADAR_REQUEST_INTERVAL", "-1", "greater than or equal to 0"),
        ("ARXIV_RADAR_API_URL", "localhost:8080", "is not an http(s) URL"),
    ],
)
def test_an_invalid_environment_override_names_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    error = load_error(tmp_path, "categories: [cs.CV]\n" + TOPIC, env={variable: value})
    (line,) = error.message.splitlines()
    assert line.startswith(f"environment variable {variable} (")
    assert expected in line


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workspace(tmp_path / "nope.yml", env={})
    assert "nope.yml: config file not found" in caught.value.message
    assert "arxiv-radar init" in caught.value.fix


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "radar.yml"
    path.write_bytes(b"categories: [cs.CV]\ntopics: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_workspace(path, env={})
    assert "cannot read config file" in caught.value.message


# --- the command line ------------------------------------------------------------------------


def run_cli(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None) -> str:
    (tmp_path / "arxiv-radar.yml").write_text(text, encoding="utf-8")
    result = cli(*(args or ("run",)), cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "arxiv-radar.db").exists()
    return result.stderr


def test_cli_invalid_yaml_is_one_error_line_and_a_fix(tmp_path: Path) -> None:
    stderr = run_cli(tmp_path, "categories: [cs.CV\n")
    lines = stderr.splitlines()
    assert lines[0].startswith("error: ") and "arxiv-radar.yml, line 2" in lines[0]
    assert "invalid YAML" in lines[0]
    assert lines[1].startswith("  fix: ")


def test_cli_broken_query_points_at_the_position(tmp_path: Path) -> None:
    stderr = run_cli(tmp_path, "categories: [cs.CV]\ntopics: [{name: A, query: 'ti:a ANDNOT'}]\n")
    assert "line 2, topics[0].query" in stderr and "position" in stderr


def test_cli_missing_config_file_given_with_c(tmp_path: Path) -> None:
    result = cli("-c", "elsewhere.yml", "run", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "elsewhere.yml: config file not found" in result.stderr


def test_cli_missing_secret_variable_is_named_before_any_fetch(tmp_path: Path) -> None:
    text = "categories: [cs.CV]\n" + TOPIC + "translation:\n  provider: deepl\n"
    stderr = run_cli(tmp_path, text, "enrich", env={"DEEPL_API_KEY": ""})
    assert "DEEPL_API_KEY" in stderr
    assert "fix:" in stderr


def test_cli_status_reports_config_errors_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text("categories: [cs.CV]\ntopics: []\n", "utf-8")
    status = cli("status", cwd=tmp_path)
    assert status.returncode == 2 and "Traceback" not in status.stderr
    assert "topics" in status.stderr


def test_a_repeated_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "arxiv-radar.yml"
    path.write_text(
        "categories: [cs.CV]\ntopics:\n  - name: A\n    query: x\n    query: y\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_workspace(path, env={})
    assert "line 5: key 'query' appears twice (first on line 4)" in str(caught.value)
