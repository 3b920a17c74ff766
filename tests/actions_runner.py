"""A small GitHub Actions runner: executes a workflow's jobs the way a hosted runner does.

Linters check a workflow's syntax; this checks its behaviour. Each ``run:`` step is executed by
``bash --noprofile --norc -eo pipefail`` (GitHub's default shell) in the job's workspace, with the
merged workflow, job and step ``env``, the ``GITHUB_*`` variables and files (``GITHUB_OUTPUT``,
``GITHUB_ENV``, ``GITHUB_STEP_SUMMARY``), and ``${{ }}`` expressions evaluated with GitHub's rules:
an ``if:`` without a status function means ``success() && (...)``, ``==`` on strings ignores case,
a missing value is null. ``uses:`` steps go to handlers the test registers by action name (the
test's stand-ins for checkout, cache, artifacts); a composite action registered with
:meth:`Runner.composite` runs its own steps. An action without a handler is skipped and listed,
and an expression the evaluator does not know fails loudly instead of guessing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ExpressionError", "JobResult", "Runner", "StepContext", "StepResult", "evaluate"]

STEP_TIMEOUT = 300.0


class ExpressionError(ValueError):
    """An expression this runner cannot evaluate: extend the runner, never ignore it."""


# --- expressions ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|&&|\|\||<=|>=|[!()<>,])|(?P<name>[A-Za-z_][\w-]*(?:\.[\w*-]+)*))"
)
_STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    """Precedence climbing over GitHub's operators: || < && < == != < ! < primary."""

    def __init__(self, text: str, lookup: Callable[[str], Any], functions: Mapping[str, Any]):
        self.text, self.items, self.at = text, _tokens(text), 0
        self.lookup, self.functions = lookup, functions

    def parse(self) -> Any:
        value = self._or()
        if self.at != len(self.items):
            raise ExpressionError(f"unexpected {self.items[self.at][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str:
        return self.items[self.at][1] if self.at < len(self.items) else ""

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.items):
            raise ExpressionError(f"unexpected end of {self.text!r}")
        item = self.items[self.at]
        if expected is not None and item[1] != expected:
            raise ExpressionError(f"expected {expected!r}, got {item[1]!r} in {self.text!r}")
        self.at += 1
        return item

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = right if truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!="):
            operator = self._take()[1]
            same = _equal(value, self._unary())
            value = same if operator == "==" else not same
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if self._peek() == "(":
            return self._call(text)
        return {"true": True, "false": False, "null": None}.get(text, self.lookup(text))

    def _call(self, name: str) -> Any:
        function = self.functions.get(name)
        if function is None:
            raise ExpressionError(f"unknown function {name}() in {self.text!r}")
        self._take("(")
        arguments = []
        while self._peek() != ")":
            arguments.append(self._or())
            if self._peek() == ",":
                self._take()
        self._take(")")
        return function(*arguments)


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0, 0.0)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def evaluate(text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> Any:
    """The value of one expression (without ``${{ }}``)."""

    def lookup(path: str) -> Any:
        head, *rest = path.split(".")
        if head not in contexts:
            raise ExpressionError(f"unknown context {head!r} in {text!r}")
        value: Any = contexts[head]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    functions: dict[str, Any] = {name: (lambda n=name: status[n]) for name in _STATUS_FUNCTIONS}
    functions["contains"] = lambda haystack, needle: str(needle).lower() in str(haystack).lower()
    functions["startsWith"] = lambda s, prefix: str(s).lower().startswith(str(prefix).lower())
    return _Parser(text, lookup, functions).parse()


_INTERPOLATION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(text: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> str:
    return _INTERPOLATION.sub(
        lambda m: _as_text(evaluate(m.group(1), contexts, status)), _as_text(text)
    )


def condition(text: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> bool:
    """An ``if:``: bare or wrapped in ``${{ }}``; without a status function, success() first."""
    if text is None:
        return status["success"]
    if isinstance(text, bool):
        return text
    expression = str(text).strip()
    wrapped = _INTERPOLATION.fullmatch(expression)
    if wrapped:
        expression = wrapped.group(1).strip()
    if not any(re.search(rf"\b{name}\s*\(", expression) for name in _STATUS_FUNCTIONS):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, status))


# --- jobs and steps ---------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    returncode: int | None = None
    output: str = ""
    uses: str = ""


@dataclass
class JobResult:
    name: str
    result: str  # success | failure | skipped
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)


@dataclass
class StepContext:
    """What a ``uses:`` handler sees: its ``with:`` inputs, the workspace and the job's env."""

    inputs: dict[str, str]
    workspace: Path
    env: dict[str, str]
    temp: Path


Handler = Callable[[StepContext], Mapping[str, str] | None]


class StepFailed(Exception):
    """Raised by a handler for a step that fails (a cache that cannot be saved, say)."""


@dataclass
class _Job:
    runner: Runner
    name: str
    workspace: Path
    temp: Path
    env: dict[str, str]
    contexts: dict[str, Any]
    result: JobResult
    failed: bool = False

    def status(self) -> dict[str, bool]:
        return {
            "success": not self.failed,
            "failure": self.failed,
            "cancelled": False,
            "always": True,
        }


class Runner:
    """Runs the jobs of one workflow run, in ``needs`` order, each in a fresh workspace."""

    def __init__(
        self,
        workflow: Mapping[str, Any],
        *,
        root: Path,
        machine_env: Mapping[str, str],
        github: Mapping[str, str],
        secrets: Mapping[str, str],
    ) -> None:
        self.workflow = workflow
        self.root = root
        self.machine_env = dict(machine_env)
        self.github = dict(github)
        self.secrets = dict(secrets)
        self.handlers: dict[str, Handler] = {}
        self.composites: dict[str, Path] = {}
        self.skipped_uses: list[str] = []

    def handle(self, action: str, handler: Handler) -> None:
        self.handlers[action] = handler

    def composite(self, action: str, action_dir: Path) -> None:
        """``uses: <action>@<ref>`` runs the steps of ``action_dir/action.yml``."""
        self.composites[action] = action_dir

    # A whole run --------------------------------------------------------------------------------

    def run(self) -> dict[str, JobResult]:
        results: dict[str, JobResult] = {}
        for job_id in self._order():
            results[job_id] = self._run_job(job_id, results)
        return results

    def _order(self) -> list[str]:
        jobs: dict[str, Any] = self.workflow["jobs"]
        done: list[str] = []
        while len(done) < len(jobs):
            for job_id, job in jobs.items():
                needs = job.get("needs", [])
                needs = [needs] if isinstance(needs, str) else needs
                if job_id not in done and all(n in done for n in needs):
                    done.append(job_id)
        return done

    def _run_job(self, job_id: str, results: Mapping[str, JobResult]) -> JobResult:
        spec = self.workflow["jobs"][job_id]
        needs = spec.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        needs_context = {
            n: {"result": results[n].result, "outputs": results[n].outputs} for n in needs
        }
        upstream_ok = all(results[n].result == "success" for n in needs)
        job = self._new_job(job_id, needs_context)
        status = {**job.status(), "success": upstream_ok, "failure": not upstream_ok}
        if not condition(spec.get("if"), job.contexts, status):
            return JobResult(job_id, "skipped")
        job.env.update(self._env_block(spec.get("env"), job))
        for step in spec.get("steps", []):
            self._run_step(step, job)
        outputs = {
            name: interpolate(value, job.contexts, job.status())
            for name, value in (spec.get("outputs") or {}).items()
        }
        job.result.outputs = outputs
        job.result.result = "failure" if job.failed else "success"
        summary = job.temp / "step_summary.md"
        job.result.summary = summary.read_text("utf-8") if summary.exists() else ""
        return job.result

    def _new_job(self, job_id: str, needs: dict[str, Any]) -> _Job:
        base = self.root / job_id
        if base.exists():
            shutil.rmtree(base)
        workspace, temp = base / "workspace", base / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()
        (temp / "step_summary.md").touch()
        github = {**self.github, "workspace": str(workspace), "job": job_id}
        env = {
            **self.machine_env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_JOB": job_id,
            "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(temp / "step_summary.md"),
            **{f"GITHUB_{key.upper()}": value for key, value in self.github.items()},
        }
        env.pop("GITHUB_TOKEN", None)  # the token reaches a step only through its env
        contexts: dict[str, Any] = {
            "github": github,
            "secrets": {**self.secrets, "GITHUB_TOKEN": self.github.get("token", "")},
            "runner": {"temp": str(temp), "os": "Linux"},
            "needs": needs,
            "steps": {},
            "env": {},
            "inputs": {},
        }
        job = _Job(self, job_id, workspace, temp, env, contexts, JobResult(job_id, "success"))
        job.env.update(self._env_block(self.workflow.get("env"), job))
        return job

    def _env_block(self, block: Mapping[str, Any] | None, job: _Job) -> dict[str, str]:
        values = {
            str(k): interpolate(v, job.contexts, job.status()) for k, v in (block or {}).items()
        }
        job.contexts["env"] = {**job.contexts["env"], **values}
        return values

    # Steps -------------------------------------------------------------------------------------

    def _run_step(
        self, step: Mapping[str, Any], job: _Job, *, shell_required: bool = False
    ) -> None:
        name = str(step.get("name") or step.get("uses") or step.get("run", "")[:40])
        if not condition(step.get("if"), job.contexts, job.status()):
            job.result.steps.append(StepResult(name, "skipped"))
            self._record(step, job, "skipped", {})
            return
        if "uses" in step:
            outcome, outputs, text = self._uses(step, job)
        else:
            if shell_required and step.get("shell") != "bash":
                raise ExpressionError(f"composite step {name!r} needs `shell: bash`")
            outcome, outputs, text = self._shell(step, job)
        job.result.steps.append(StepResult(name, outcome, output=text, uses=step.get("uses", "")))
        self._record(step, job, outcome, outputs)
        if outcome == "failure" and not step.get("continue-on-error"):
            job.failed = True

    def _record(
        self, step: Mapping[str, Any], job: _Job, outcome: str, outputs: Mapping[str, str]
    ) -> None:
        if "id" in step:
            job.contexts["steps"][step["id"]] = {
                "outcome": outcome,
                "conclusion": outcome,
                "outputs": dict(outputs),
            }

    def _shell(self, step: Mapping[str, Any], job: _Job) -> tuple[str, dict[str, str], str]:
        script = interpolate(step["run"], job.contexts, job.status())
        number = len(job.result.steps)
        path = job.temp / f"step-{number}.sh"
        path.write_text(script, encoding="utf-8")
        outputs_file, env_file = job.temp / f"output-{number}", job.temp / f"env-{number}"
        outputs_file.touch()
        env_file.touch()
        env = {
            **job.env,
            **self._env_block(step.get("env"), job),
            "GITHUB_OUTPUT": str(outputs_file),
            "GITHUB_ENV": str(env_file),
        }
        cwd = job.workspace / str(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        for key, value in _key_values(env_file.read_text("utf-8")).items():
            job.env[key] = value
            job.contexts["env"][key] = value
        outcome = "success" if done.returncode == 0 else "failure"
        return outcome, _key_values(outputs_file.read_text("utf-8")), done.stdout + done.stderr

    def _uses(self, step: Mapping[str, Any], job: _Job) -> tuple[str, dict[str, str], str]:
        action = str(step["uses"]).split("@", 1)[0]
        inputs = {
            str(k): interpolate(v, job.contexts, job.status())
            for k, v in (step.get("with") or {}).items()
        }
        if action in self.composites:
            return self._composite(self.composites[action], inputs, step, job)
        handler = self.handlers.get(action)
        if handler is None:
            self.skipped_uses.append(action)
            return "skipped", {}, ""
        context = StepContext(inputs, job.workspace, {**job.env}, job.temp)
        try:
            outputs = handler(context) or {}
        except StepFailed as err:
            return "failure", {}, str(err)
        return "success", dict(outputs), ""

    def _composite(
        self, action_dir: Path, inputs: dict[str, str], step: Mapping[str, Any], job: _Job
    ) -> tuple[str, dict[str, str], str]:
        action = yaml.safe_load((action_dir / "action.yml").read_text("utf-8"))
        defaults = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
        saved = (dict(job.contexts["steps"]), job.contexts["inputs"], dict(job.env), job.failed)
        job.contexts["steps"], job.contexts["inputs"] = {}, {**defaults, **inputs}
        job.contexts["github"] = {**job.contexts["github"], "action_path": str(action_dir)}
        job.env.update(self._env_block(step.get("env"), job))
        job.failed = False
        first = len(job.result.steps)
        for inner in action["runs"]["steps"]:
            self._run_step(inner, job, shell_required="run" in inner)
        failed = job.failed
        inner_steps = job.result.steps[first:]
        del job.result.steps[first:]
        job.contexts["steps"], job.contexts["inputs"], job.env, job.failed = (
            saved[0],
            saved[1],
            saved[2],
            saved[3],
        )
        text = "\n".join(f"[{s.name}: {s.outcome}]\n{s.output}" for s in inner_steps)
        return ("failure" if failed else "success"), {}, text


def _key_values(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT``/``GITHUB_ENV`` lines: ``name=value`` and ``name<<DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values
