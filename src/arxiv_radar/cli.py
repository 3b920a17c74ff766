"""The command line: parse options, call one library function, format the result.

Exit codes: 0 done, 1 a stage failed (network, server), 2 a user error (config, arguments). User
errors print one line per problem with the fix and never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from arxiv_radar import __version__
from arxiv_radar.backfill import BackfillRange, parse_day
from arxiv_radar.config import DEFAULT_CONFIG_NAME, Workspace, load_workspace
from arxiv_radar.doctor import run_doctor
from arxiv_radar.errors import ArxivRadarError, UserError
from arxiv_radar.github_files import WORKFLOW_PATH
from arxiv_radar.job_summary import append_step_summary, error_summary, run_summary
from arxiv_radar.pipeline import STAGES, RunOutcome, run_pipeline
from arxiv_radar.rank.report import topic_ranking
from arxiv_radar.report import describe_backfill, describe_runs
from arxiv_radar.scaffold import scaffold

__all__ = ["cli", "main"]

_FILES_SHOWN = 8  # a first publish writes hundreds of pages: name a few, count the rest
_err = Console(stderr=True, highlight=False, soft_wrap=True)
_out = Console(highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help=f"Config file [default: ./{DEFAULT_CONFIG_NAME}, else the built-in example topics].",
)
@click.option("-v", "--verbose", count=True, help="More detail: -v progress, -vv HTTP requests.")
@click.version_option(__version__, prog_name="arxiv-radar")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Follow research topics on arXiv and publish a daily digest."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=_err, show_path=False, show_time=False)],
        force=True,
    )
    ctx.obj = config_path


def _workspace(ctx: click.Context) -> Workspace:
    return load_workspace(ctx.obj)


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--github",
    is_flag=True,
    help=f"Also write {WORKFLOW_PATH} (a daily GitHub Actions run with Pages) and .gitignore "
    "entries for the database.",
)
@click.pass_context
def init(ctx: click.Context, force: bool, github: bool) -> int:
    """Write a commented starter config with four example topics."""
    for item in scaffold(ctx.obj, github=github, force=force):
        if item.action == "kept":
            _out.print(f"Kept the existing {item.path} (--force overwrites it)")
        elif item.action == "extended":
            _out.print(f"Added the database's entries to {item.path}")
        elif item.action == "wrote":
            _out.print(f"Wrote {item.path}")
    _out.print("Next: edit the topics, then run `arxiv-radar run`.")
    return 0


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> int:
    """Fetch, enrich, publish every output, then send email and chat digests."""
    return _report(run_pipeline(_workspace(ctx), STAGES, command="run"))


@cli.command()
@click.pass_context
def fetch(ctx: click.Context) -> int:
    """Fetch today's papers into the database without publishing."""
    return _report(run_pipeline(_workspace(ctx), ("fetch",), command="fetch"))


@cli.command()
@click.pass_context
def enrich(ctx: click.Context) -> int:
    """Find code links and stars, translate abstracts and write TL;DRs that are due."""
    return _report(run_pipeline(_workspace(ctx), ("enrich",), command="enrich"))


@cli.command()
@click.pass_context
def publish(ctx: click.Context) -> int:
    """Render README.md and docs/ from the database alone (no network)."""
    return _report(run_pipeline(_workspace(ctx), ("publish",), command="publish"))


@cli.command()
@click.pass_context
def notify(ctx: click.Context) -> int:
    """Send the configured email and chat destinations the papers they have not received."""
    return _report(run_pipeline(_workspace(ctx), ("notify",), command="notify"))


@cli.command()
@click.argument("topic")
@click.option("--explain", "explain_id", metavar="ID", default=None, help="Take one score apart.")
@click.pass_context
def rank(ctx: click.Context, topic: str, explain_id: str | None) -> int:
    """Rank TOPIC by its seeds and print today's papers with the reasons (no publishing)."""
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
    _out.print(table)
    for line in report.explanation:
        _out.print(line, markup=False)
    for error in outcome.errors:
        _err.print(f"error in {error['stage']}: {error['error']}", markup=False)
    return outcome.exit_code


@cli.command()
@click.option("-n", "--limit", default=10, show_default=True, help="How many runs to list.")
@click.pass_context
def status(ctx: click.Context, limit: int) -> int:
    """The last runs: when, what was fetched per topic, what failed and why."""
    workspace = _workspace(ctx)
    if not workspace.database.exists():
        _out.print(f"No runs yet: {workspace.database} does not exist. Try: arxiv-radar run")
        return 0
    for renderable in describe_runs(workspace, limit=limit):
        _out.print(renderable)
    return 0


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> int:
    """Check the config, endpoints, tokens, folders and database; say what to fix."""
    report = run_doctor(ctx.obj)
    table = Table("Check", "Status", "Details / what to fix", title="arxiv-radar doctor")
    for check in report.checks:
        status = "ok" if check.ok else "problem"
        detail = check.detail if check.ok or not check.fix else f"{check.detail}\nfix: {check.fix}"
        table.add_row(Text(check.name), status, Text(detail))
    _out.print(table)
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
    span = BackfillRange(parse_day(start, "--from"), parse_day(end, "--to"), topic)
    outcome = run_pipeline(_workspace(ctx), ("backfill",), command="backfill", backfill=span)
    stats = outcome.stats.get("backfill", {})
    _out.print(describe_backfill(stats))
    for note in stats.get("notes", []):
        _out.print(f"note: {note}")
    if not outcome.errors:
        _out.print("Run `arxiv-radar publish` to update the pages.")
    return _report(outcome)


def _report(outcome: RunOutcome) -> int:
    fetched = outcome.stats.get("fetch")
    if isinstance(fetched, dict):
        table = Table("Topic", "New", title=f"Run {outcome.run_id}: {outcome.status}")
        for topic, count in fetched.get("per_topic", {}).items():
            table.add_row(topic, str(count))
        _out.print(table)
        for note in fetched.get("notes", []):
            _out.print(f"note: {note}")
    enriched = outcome.stats.get("enrich")
    if isinstance(enriched, dict):
        _out.print(
            f"code links: {enriched.get('code_found', 0)} found in "
            f"{enriched.get('code_checked', 0)} checks; {enriched.get('translated', 0)} "
            f"translated; {enriched.get('summarized', 0)} summarized"
            + (f"; {enriched['failed']} lookups deferred" if enriched.get("failed") else "")
        )
    published = outcome.stats.get("publish")
    if isinstance(published, dict):
        written, count = published.get("written", []), published.get("written_count", 0)
        shown = ", ".join(written[:_FILES_SHOWN]) + (", ..." if count > _FILES_SHOWN else "")
        _out.print(f"{count} file(s) written" + (f": {shown}" if count else ""))
    for error in outcome.errors:
        _err.print(f"error in {error['stage']}: {error['error']}", markup=False)
    command = click.get_current_context().command.name or "run"
    append_step_summary(run_summary(command, outcome.status, outcome.stats, outcome.errors))
    return outcome.exit_code


def _show_error(err: ArxivRadarError, argv: Sequence[str] | None) -> None:
    for line in err.message.splitlines():
        _err.print(f"error: {line}", markup=False)
    if err.fix:
        _err.print(f"  fix: {err.fix}", markup=False)
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
        _err.print("aborted")
        sys.exit(130)
    except UserError as err:
        _show_error(err, argv)
        sys.exit(2)
    except ArxivRadarError as err:
        _show_error(err, argv)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
