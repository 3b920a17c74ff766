"""The README cannot rot: its CLI reference is generated from --help, every config key is listed.

Regenerate the CLI reference with ``UPDATE_README=1 python -m pytest tests/test_readme.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import click
from pydantic import BaseModel

from arxiv_radar.cli import cli
from arxiv_radar.config import ENV_OVERRIDES, RadarConfig

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def cli_reference() -> str:
    """Every command's --help, in the order a user meets them."""
    blocks = [_help([])]
    group = cli
    assert isinstance(group, click.Group)
    for name in group.list_commands(click.Context(group)):
        blocks.append(f"### `arxiv-radar {name}`\n\n" + _help([name]))
    return "\n".join(blocks)


def _help(args: list[str]) -> str:
    with click.Context(cli, info_name="arxiv-radar", terminal_width=100) as ctx:
        target: click.Command = cli
        command_ctx = ctx
        for name in args:
            assert isinstance(target, click.Group)
            sub = target.get_command(ctx, name)
            assert sub is not None
            target = sub
            command_ctx = click.Context(sub, info_name=name, parent=ctx, terminal_width=100)
        return "```text\n" + target.get_help(command_ctx).rstrip() + "\n```\n"


def test_cli_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{START}\n{cli_reference()}{END}{tail}"
    if os.environ.get("UPDATE_README"):
        README.write_text(fresh, encoding="utf-8")
        return
    assert text == fresh, "README CLI reference is stale: run UPDATE_README=1 pytest"


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
