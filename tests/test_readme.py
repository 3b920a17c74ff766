"""The README cannot rot: its CLI reference is what the CLI prints, every config key is listed.

Regenerate the CLI reference with ``python -m arxiv_radar.cli_reference --write README.md``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from arxiv_radar.cli_reference import COLUMNS, END, REGENERATE, START, command_help, with_reference
from arxiv_radar.config import ENV_OVERRIDES, RadarConfig

README = Path(__file__).resolve().parents[1] / "README.md"


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(COLUMNS)}
    return subprocess.run(
        [sys.executable, *args], check=False, capture_output=True, text=True, env=env, timeout=60
    )


def test_cli_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert text == with_reference(text), f"README CLI reference is stale: run {REGENERATE}"


def test_the_reference_is_what_a_user_sees_in_the_terminal() -> None:
    for path in ([], ["run"], ["status"]):
        shown = _python("-m", "arxiv_radar", *path, "--help")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == command_help(path)
        assert "  -h, --help " in shown.stdout and "Usage: arxiv-radar " in shown.stdout
        if path:  # every command takes the global options after its name too
            assert "-c, --config FILE" in shown.stdout and "-v, --verbose" in shown.stdout


def test_a_stale_reference_fails_the_check_and_says_how_to_regenerate(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    stale.write_text(text.replace("  -h, --help", "  --help", 1), encoding="utf-8")
    checked = _python("-m", "arxiv_radar.cli_reference", "--check", str(stale))
    assert checked.returncode == 1 and REGENERATE in checked.stderr
    assert _python("-m", "arxiv_radar.cli_reference", "--write", str(stale)).returncode == 0
    assert stale.read_text(encoding="utf-8") == text
    assert _python("-m", "arxiv_radar.cli_reference", "--check", str(stale)).returncode == 0
    assert text.count(START) == text.count(END) == 1


def _keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        inner = _model(field.annotation)
        dotted = f"{prefix}{name}"
        if inner is None:
            yield dotted
        else:
            list_like = get_origin(field.annotation) is list
            yield from _keys(inner, f"{dotted}[]." if list_like else f"{dotted}.")


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model(arg)
        if found is not None:
            return found
    return None


def test_every_config_key_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    expanded: set[str] = set()
    # A row may name several keys of one section: "`email.username` / `password_env`".
    for row in re.findall(r"^\| (`[^|]+`) \|", text, flags=re.MULTILINE):
        names = re.findall(r"`([^`]+)`", row)
        section = names[0].rsplit(".", 1)[0] + "." if "." in names[0] else ""
        expanded.update(names[:1] + [section + n for n in names[1:]])
    missing = [key for key in _keys(RadarConfig) if key not in expanded]
    assert not missing, f"undocumented config keys: {missing}"


def test_every_environment_override_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    assert all(name in text for name in ENV_OVERRIDES)
