"""The README's command reference, generated from the real CLI so it cannot drift from it.

The text is exactly what ``COLUMNS=100 arxiv-radar [COMMAND] --help`` prints: the real group with
its real context settings (``-h, --help``, the help width), the real program name. Regenerate the
README block with ``python -m arxiv_radar.cli_reference --write README.md``; ``--check`` exits 1
when the block is stale (the test suite does the same).

Like :mod:`arxiv_radar.cli`, this is part of the command line, so it may import click.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from arxiv_radar.cli import cli

__all__ = [
    "COLUMNS",
    "END",
    "PROG_NAME",
    "REGENERATE",
    "START",
    "cli_reference",
    "command_help",
    "main",
    "with_reference",
]

PROG_NAME = "arxiv-radar"
COLUMNS = 100  # the terminal width the reference is rendered for
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
REGENERATE = "python -m arxiv_radar.cli_reference --write README.md"


def command_help(path: Sequence[str] = ()) -> str:
    """``arxiv-radar [path...] --help`` as a ``COLUMNS``-wide terminal shows it."""
    # click's formatter leaves two columns free: a COLUMNS-wide terminal gets COLUMNS - 2.
    ctx = cli.make_context(PROG_NAME, [], resilient_parsing=True, terminal_width=COLUMNS - 2)
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group), f"{command.name} has no subcommands"
        sub = command.get_command(ctx, name)
        if sub is None:
            raise KeyError(f"no command {name!r}")
        ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
        command = sub
    return command.get_help(ctx).rstrip() + "\n"


def cli_reference() -> str:
    """The group's help, then every command's (a group's subcommands after it), in the order
    ``--help`` lists them."""
    blocks = [_fenced(command_help())]
    for path in _command_paths(cli, ()):
        blocks.append(f"### `{PROG_NAME} {' '.join(path)}`\n\n" + _fenced(command_help(path)))
    return "\n".join(blocks)


def _command_paths(group: click.Command, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not isinstance(group, click.Group):
        return []
    paths: list[tuple[str, ...]] = []
    for name in group.list_commands(click.Context(group)):
        path = (*prefix, name)
        paths.append(path)
        command = group.get_command(click.Context(group), name)
        if command is not None:
            paths += _command_paths(command, path)
    return paths


def _fenced(text: str) -> str:
    return f"```text\n{text}```\n"


def with_reference(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current reference."""
    if readme.count(START) != 1 or readme.count(END) != 1:
        raise ValueError(f"the README needs exactly one {START} and one {END} line")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{cli_reference()}{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reference, write it into a README (``--write``) or check one (``--check``)."""
    parser = argparse.ArgumentParser(prog="python -m arxiv_radar.cli_reference")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="README", help="update the block in place")
    action.add_argument("--check", type=Path, metavar="README", help="exit 1 if it is stale")
    args = parser.parse_args(argv)
    if args.write is None and args.check is None:
        sys.stdout.write(cli_reference())
        return 0
    path: Path = args.write or args.check
    text = path.read_text(encoding="utf-8")
    fresh = with_reference(text)
    if args.write is not None:
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != text:
        sys.stderr.write(f"{path}: the CLI reference is stale; regenerate it: {REGENERATE}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
