"""The command line: parse options, call one library function, format the result.

Exit codes: 0 done, 1 a stage failed (network, server), 2 a user error (config, arguments). User
errors print one line per problem with the fix and never a traceback.

Start-up imports only click and light modules, so ``--help`` answers at once: each command
imports what it needs (the pipeline, the store, httpx, jinja2, the pydantic config, rich) in its
own body, and the consoles and the rich log handler are built when first used.
``tests/test_cli_startup.py`` keeps it that way.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arxiv_radar import __version__, secrets
from arxiv_radar.errors import ArxivRadarError, UserError
from arxiv_radar.names import DEFAULT_CONFIG_NAME, WORKFLOW_PATH

if TYPE_CHECKING:
    from rich.console import Console

    from arxiv_radar.backfill import BackfillRange
    from arxiv_radar.config import Workspace
    from arxiv_radar.pipeline import RunOutcome

__all__ = ["CONTEXT_SETTINGS", "RadarGroup", "cli", "main"]

_FILES_SHOWN = 8  # a first publish writes hundreds of pages: name a few, count the rest


@functools.cache
def _console(*, stderr: bool) -> Console:
    """The one stdout (or stderr) console, made at the first output: rich loads only then."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _out() -> Console:
    return _console(stderr=False)


def _err() -> Console:
    return _console(stderr=True)


class _RichOnFirstRecord(logging.Handler):
    """rich's log handler, built when the first record arrives.

    Logging is configured while the options are parsed, also for ``arxiv-radar run --help``,
    which logs nothing: importing rich there would cost a third of the start-up.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rich: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:
            from rich.logging import RichHandler

            self._rich = RichHandler(console=_err(), show_path=False, show_time=False)
            self._rich.setFormatter(self.formatter or logging.Formatter())
        self._rich.emit(record)


_VERBOSE = "arxiv_radar.verbose"  # ctx.meta key: -v counted before and after the command
#: Help as wide as a 100-column terminal allows (click's default stops at 80).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """``ctx.obj`` is the config path; the command's option is parsed last, so it wins."""
    if value is not None:
        ctx.obj = value


def _count_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    """``-v`` given before and after the command add up: ``-v run -v`` is ``-vv``."""
    total = ctx.meta.get(_VERBOSE, 0) + value
    ctx.meta[_VERBOSE] = total
    if not ctx.resilient_parsing:  # help rendering (the README reference) configures nothing
        _configure_logging(total)


def _configure_logging(verbose: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = _RichOnFirstRecord()
    secrets.install(handler)  # every line, httpcore's -vv headers included, is scrubbed
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)


def _global_options() -> list[click.Parameter]:
    """-c/--config and -v/--verbose: one definition for the group and every command."""
    return [
        click.Option(
            ["-c", "--config"],
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            expose_value=False,
            callback=_remember_config,
            help=f"Config file [default: ./{DEFAULT_CONFIG_NAME}, else the built-in example"
            " topics].",
        ),
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_count_verbose,
            help="More detail: -v progress, -vv HTTP requests.",
        ),
    ]


class RadarGroup(click.Group):
    """A group whose every command, built-in or added later, takes the global options too.

    A scheduled job writes ``arxiv-radar run -c my.yml``; people write ``arxiv-radar -c my.yml
    run``. Both work because registering a command gives it the same -c/-v options the group has.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_global_options(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _add_global_options(cmd)
        super().add_command(cmd, name)


def _add_global_options(cmd: click.Command) -> None:
    taken = {opt for param in cmd.params for opt in param.opts}
    cmd.params.extend(p for p in _global_options() if not taken.intersection(p.opts))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _add_global_options(sub)


@click.group(cls=RadarGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="arxiv-radar")
def cli() -> None:
    """Follow research topics on arXiv and publish a daily digest."""


def _workspace(ctx: click.Context) -> Workspace:
    from arxiv_radar.config import load_workspace

    return load_workspace(ctx.obj)


def _pipeline(
    ctx: click.Context,
    stages: Sequence[str],
    command: str,
    backfill: BackfillRange | None = None,
) -> RunOutcome:
    """Run ``stages`` of the pipeline on the command's workspace."""
    from arxiv_radar.pipeline import run_pipeline

    return run_pipeline(_workspace(ctx), stages, command=command, backfill=backfill)


@cli.command()
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite existing files (with --github, the workflow: the config is kept).",
)
@click.option(
    "--github",
    is_flag=True,
    help=f"Also write {WORKFLOW_PATH} (a daily GitHub Actions run with Pages) and .gitignore "
    "entries for the database.",
)
@click.pass_context
def init(ctx: click.Context, force: bool, github: bool) -> int:
    """Write a commented starter config with four example topics."""
    from arxiv_radar.scaffold import scaffold

    for item in scaffold(ctx.obj, github=github, force=force):
        if item.action == "kept":
            again = "`arxiv-radar init --force`" if github else "--force"
            _out().print(f"Kept the existing {item.path} ({again} overwrites it)")
        elif item.action == "extended":
            _out().print(f"Added the database's entries to {item.path}")
        elif item.action == "wrote":
            _out().print(f"Wrote {item.path}")
        if item.note:
            _out().print(f"note: {item.note}")
    _out().print("Next: edit the topics, then run `arxiv-radar run`.")
    return 0


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> int:
    """Fetch, enrich, publish every output, then send email and chat digests."""
    from arxiv_radar.pipeline import STAGES

    return _report(_pipeline(ctx, STAGES, "run"))


@cli.command()
@click.pass_context
def fetch(ctx: click.Context) -> int:
    """Fetch today's papers into the database without publishing."""
    return _report(_pipeline(ctx, ("fetch",), "fetch"))


@cli.command()
@click.pass_context
def enrich(ctx: click.Context) -> int:
    """Find code links and stars, translate abstracts and write TL;DRs that are due."""
    return _report(_pipeline(ctx, ("enrich",), "enrich"))


@cli.command()
@click.pass_context
def publish(ctx: click.Context) -> int:
    """Render README.md and docs/ from the database alone (no network)."""
    return _report(_pipeline(ctx, ("publish",), "publish"))


@cli.command()
@click.pass_context
def notify(ctx: click.Context) -> int:
    """Send the configured email and chat destinations the papers they have not received."""
    return _report(_pipeline(ctx, ("notify",), "notify"))


@cli.command()
@click.argument("topic")
@click.option("--explain", "explain_id", metavar="ID", default=None, help="Take one score apart.")
@click.pass_context
def rank(ctx: click.Context, topic: str, explain_id: str | None) -> int:
    """Rank TOPIC by its seeds and print today's papers with the reasons (no publishing)."""
    from rich.table import Table
    from rich.text import Text

    from arxiv_radar.pipeline import run_pipeline
    from arxiv_radar.rank.report import topic_ranking

    workspace = _workspace(ctx)
    outcome = run_pipeline(workspace, ("rank",), command="rank")
    report = topic_ranking(workspace, topic, explain=explain_id)
    table = Table(
        "#", "Score", "Paper", "Why", title=f"{report.topic}: {report.day or 'no papers'}"
    )
    for place, paper in enumerate(report.papers, start=1):
        table.add_row(
            str(place),
            f"{paper.score:.2f}",
            Text(f"{paper.arxiv_id} {paper.title}"),
            Text(paper.why),
        )
    _out().print(table)
    for line in report.explanation:
        _out().print(line, markup=False)
    for error in outcome.errors:
        _err().print(f"error in {error['stage']}: {error['error']}", markup=False)
    return outcome.exit_code


@cli.command()
@click.option("-n", "--limit", default=10, show_default=True, help="How many runs to list.")
@click.pass_context
def status(ctx: click.Context, limit: int) -> int:
    """The last runs: when, what was fetched per topic, what failed and why."""
    from arxiv_radar.report import describe_runs
    from arxiv_radar.store.snapshot import MANIFEST

    workspace = _workspace(ctx)
    if not workspace.database.exists():
        if (workspace.state_dir / MANIFEST).exists():
            _out().print(
                f"{workspace.database} does not exist yet (a fresh checkout): the next "
                f"`arxiv-radar run` rebuilds it from {workspace.state_dir}. Run history is kept "
                "in the database only, so earlier runs are not listed."
            )
        else:
            _out().print(f"No runs yet: {workspace.database} does not exist. Try: arxiv-radar run")
        return 0
    for renderable in describe_runs(workspace, limit=limit):
        _out().print(renderable)
    return 0


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> int:
    """Check the config, endpoints, tokens, folders and database; say what to fix."""
    from rich.table import Table
    from rich.text import Text

    from arxiv_radar.doctor import run_doctor

    report = run_doctor(ctx.obj)
    table = Table("Check", "Status", "Details / what to fix", title="arxiv-radar doctor")
    for check in report.checks:
        status = "ok" if check.ok else "problem"
        detail = check.detail if check.ok or not check.fix else f"{check.detail}\nfix: {check.fix}"
        table.add_row(Text(check.name), status, Text(detail))
    _out().print(table)
    return report.exit_code


@cli.command()
@click.option("--from", "start", required=True, metavar="DATE", help="First submission day.")
@click.option("--to", "end", required=True, metavar="DATE", help="Last submission day.")
@click.option("--topic", default=None, metavar="NAME", help="Only this topic of the config.")
@click.pass_context
def backfill(ctx: click.Context, start: str, end: str, topic: str | None) -> int:
    """Fill a range of submission days (YYYY-MM-DD, UTC) through the arXiv API.

    Resumable: after a failure, the same command continues from its checkpoint.
    """
    from arxiv_radar.backfill import BackfillRange, parse_day
    from arxiv_radar.report import describe_backfill

    span = BackfillRange(parse_day(start, "--from"), parse_day(end, "--to"), topic)
    outcome = _pipeline(ctx, ("backfill",), "backfill", backfill=span)
    stats = outcome.stats.get("backfill", {})
    _out().print(describe_backfill(stats))
    for note in stats.get("notes", []):
        _out().print(f"note: {note}")
    if not outcome.errors:
        _out().print("Run `arxiv-radar publish` to update the pages.")
    return _report(outcome)


@cli.group("import")
def import_group() -> None:
    """Switch from another digest tool, keeping its history."""


@import_group.command("cv-arxiv-daily")
@click.option(
    "--config",
    "old_config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The fork's cv-arxiv-daily config [default: ./config.yaml].",
)
@click.option(
    "--json",
    "json_paths",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="History file(s) to import [default: the json_*_path files the config names].",
)
@click.option("--force", is_flag=True, help="Rewrite an arxiv-radar.yml you have edited.")
def import_cv_arxiv_daily(
    old_config: Path | None, json_paths: tuple[Path, ...], force: bool
) -> int:
    """Write arxiv-radar.yml from a cv-arxiv-daily fork and import its docs/*.json history.

    Run it in the fork's folder. Resumable; running it again changes nothing.
    """
    from rich.progress import Progress

    from arxiv_radar.importers.cv_arxiv_daily import run_import, summary_lines

    with Progress(console=_err(), transient=True) as bar:
        task = bar.add_task("Fetching metadata from arXiv", total=None)
        outcome = run_import(
            Path.cwd(),
            config=old_config,
            json_paths=json_paths,
            force=force,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    for line in summary_lines(outcome):
        _out().print(line, markup=False)
    return 0


def _report(outcome: RunOutcome) -> int:
    from rich.table import Table

    from arxiv_radar.job_summary import append_step_summary, run_summary

    fetched = outcome.stats.get("fetch")
    if isinstance(fetched, dict):
        table = Table("Topic", "New", title=f"Run {outcome.run_id}: {outcome.status}")
        for topic, count in fetched.get("per_topic", {}).items():
            table.add_row(topic, str(count))
        _out().print(table)
        for note in fetched.get("notes", []):
            _out().print(f"note: {note}")
    enriched = outcome.stats.get("enrich")
    if isinstance(enriched, dict):
        _out().print(
            f"code links: {enriched.get('code_found', 0)} found in "
            f"{enriched.get('code_checked', 0)} checks; {enriched.get('translated', 0)} "
            f"translated; {enriched.get('summarized', 0)} summarized"
            + (f"; {enriched['failed']} lookups deferred" if enriched.get("failed") else "")
        )
    published = outcome.stats.get("publish")
    if isinstance(published, dict):
        written, count = published.get("written", []), published.get("written_count", 0)
        shown = ", ".join(written[:_FILES_SHOWN]) + (", ..." if count > _FILES_SHOWN else "")
        _out().print(f"{count} file(s) written" + (f": {shown}" if count else ""))
    for error in outcome.errors:
        _err().print(f"error in {error['stage']}: {error['error']}", markup=False)
    command = click.get_current_context().command.name or "run"
    append_step_summary(run_summary(command, outcome.status, outcome.stats, outcome.errors))
    return outcome.exit_code


def _show_error(err: ArxivRadarError, argv: Sequence[str] | None) -> None:
    from arxiv_radar.job_summary import append_step_summary, error_summary

    for line in err.message.splitlines():
        _err().print(f"error: {line}", markup=False)
    if err.fix:
        _err().print(f"  fix: {err.fix}", markup=False)
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in words if word in cli.commands), "")
    append_step_summary(error_summary(command, err.message, err.fix))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point; maps exceptions to exit codes."""
    try:
        code = cli.main(args=argv, prog_name="arxiv-radar", standalone_mode=False)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        _err().print("aborted")
        sys.exit(130)
    except UserError as err:
        _show_error(err, argv)
        sys.exit(2)
    except ArxivRadarError as err:
        _show_error(err, argv)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
