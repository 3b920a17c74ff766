"""The config file: schema, YAML loading, environment overrides and friendly errors.

Config mistakes are the most common way a daily tracker silently stops, so every error names the
file, the line and the key, says what is wrong and how to fix it, and all errors are reported at
once rather than one per run.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from arxiv_radar import categories as taxonomy
from arxiv_radar import secrets
from arxiv_radar.errors import ConfigError, QuerySyntaxError
from arxiv_radar.names import DEFAULT_CONFIG_NAME
from arxiv_radar.paper import split_version
from arxiv_radar.query import parse

__all__ = [
    "ENV_OVERRIDES",
    "ChatConfig",
    "CodeLinksConfig",
    "EmailConfig",
    "EndpointsConfig",
    "FeedsConfig",
    "HttpConfig",
    "OutputConfig",
    "RadarConfig",
    "RankConfig",
    "SiteConfig",
    "SummaryConfig",
    "TopicConfig",
    "TranslationConfig",
    "Workspace",
    "ZoteroConfig",
    "load_workspace",
    "parse_config",
    "starter_config_text",
]

Column = Literal["date", "title", "authors", "abstract", "pdf", "code", "tldr", "why"]
_DEFAULT_COLUMNS: tuple[Column, ...] = ("date", "title", "abstract", "pdf", "code")
Finder = Literal["text", "huggingface-daily", "huggingface", "paperswithcode"]
_DEFAULT_FINDERS: tuple[Finder, ...] = (
    "text",
    "huggingface-daily",
    "huggingface",
    "paperswithcode",
)

# Environment variable -> (section, key). Endpoints follow ARXIV_RADAR_<NAME>_URL.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "ARXIV_RADAR_API_URL": ("endpoints", "api_url"),
    "ARXIV_RADAR_RSS_URL": ("endpoints", "rss_url"),
    "ARXIV_RADAR_OAI_URL": ("endpoints", "oai_url"),
    "ARXIV_RADAR_HF_URL": ("endpoints", "hf_url"),
    "ARXIV_RADAR_PWC_URL": ("endpoints", "pwc_url"),
    "ARXIV_RADAR_GITHUB_API_URL": ("endpoints", "github_api_url"),
    "ARXIV_RADAR_ZOTERO_URL": ("endpoints", "zotero_url"),
    "ARXIV_RADAR_REQUEST_INTERVAL": ("http", "request_interval"),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_categories(codes: list[str]) -> list[str]:
    for code in codes:
        if not taxonomy.is_known(code):
            guess = taxonomy.suggest(code)
            hint = (
                f"did you mean {guess!r}?" if guess else "see https://arxiv.org/category_taxonomy"
            )
            raise ValueError(f"unknown arXiv category {code!r}; {hint}")
    return codes


def _check_seed_ids(ids: list[str]) -> list[str]:
    """Seeds are arXiv ids (a version suffix is ignored); anything else is a typo to fix now."""
    for raw in ids:
        try:
            split_version(raw)
        except ValueError:
            raise ValueError(
                f"seed {raw!r} is not an arXiv id; use ids like 2401.01234 or hep-th/9711200"
            ) from None
    return ids


def _check_names(names: list[str]) -> list[str]:
    if any(not name.strip() for name in names):
        raise ValueError("author names must not be empty")
    return names


def _check_query(text: str) -> str:
    try:
        parse(text)
    except QuerySyntaxError as err:
        fix = f" ({err.fix})" if err.fix else ""
        raise ValueError(f"invalid query {text!r}: {err.message}{fix}") from None
    return text


class ZoteroConfig(_Section):
    """A Zotero collection whose items are seeds, read through the Zotero web API."""

    library: str = Field(pattern=r"^(users|groups)/\d+$")  # users/<id> or groups/<id>
    collection: str = Field(pattern=r"^[A-Z0-9]{8}$")  # the key in the collection's URL
    api_key_env: str = ""  # variable holding a read key; empty for a public group


class TopicConfig(_Section):
    """One followed topic: a query in arXiv syntax, or a cv-arxiv-daily style keyword list."""

    name: str = Field(min_length=1)
    query: str | None = None
    keywords: list[str] | None = None
    categories: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    # Ranking (arxiv_radar.rank): papers like these come first, with a reason.
    seeds: list[str] = Field(default_factory=list)
    seeds_file: str | None = None  # a BibTeX (.bib) or RIS (.ris) export, relative to the config
    zotero: ZoteroConfig | None = None
    follow: list[str] = Field(default_factory=list)
    # None: by relevance within each announcement day when the topic has seeds, else by date.
    order: Literal["date", "relevance"] | None = None

    _categories = field_validator("categories")(_check_categories)
    _seeds = field_validator("seeds")(_check_seed_ids)
    _follow = field_validator("follow")(_check_names)

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str | None) -> str | None:
        return None if value is None else _check_query(value)

    @field_validator("keywords", "exclude")
    @classmethod
    def _phrases_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not phrase.strip() for phrase in value):
            raise ValueError("phrases must not be empty")
        return value

    @model_validator(mode="after")
    def _one_matcher(self) -> TopicConfig:
        if (self.query is None) == (self.keywords is None):
            raise ValueError(f"topic {self.name!r} needs exactly one of 'query' or 'keywords'")
        if self.keywords is not None and not self.keywords:
            raise ValueError(f"topic {self.name!r} has an empty 'keywords' list")
        return self


class OutputConfig(_Section):
    readme: str = "README.md"
    docs_dir: str = "docs"
    readme_rows: int = Field(50, ge=1, le=10_000)
    abstract_chars: int = Field(300, ge=0)
    columns: list[Column] = Field(default_factory=lambda: list(_DEFAULT_COLUMNS), min_length=1)


class SiteConfig(_Section):
    """The static HTML site (search, topic pages, charts) written into ``output.docs_dir``."""

    enabled: bool = True
    title: str = "arxiv-radar"
    url: str = ""  # public address; default https://<owner>.github.io/<name>/ from `repository`


class FeedsConfig(_Section):
    """RSS/Atom feeds and JSON/CSV/BibTeX exports, written into ``output.docs_dir``."""

    enabled: bool = True
    max_items: int = Field(100, ge=1, le=10_000)
    # Monthly CSV repeats every abstract a third time on the Pages site (1 GB limit): opt-in.
    csv: bool = False


class CodeLinksConfig(_Section):
    """Code links and stars for the Code column (finders run in this order)."""

    enabled: bool = True
    finders: list[Finder] = Field(default_factory=lambda: list(_DEFAULT_FINDERS), min_length=1)
    workers: int = Field(4, ge=1, le=16)
    # Papers past the re-check schedule (an imported history) checked per run, newest first.
    backlog_per_run: int = Field(300, ge=0, le=100_000)
    # Seconds between requests to each code-link host (0.5 = Hugging Face's 2 requests/second).
    request_interval: float = Field(0.5, ge=0)


class TranslationConfig(_Section):
    """Machine translation of abstracts (and optionally titles), cached per paper version."""

    provider: Literal["none", "openai", "deepl", "google"] = "none"
    language: str = Field("zh-CN", min_length=2)
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    translate_title: bool = False
    glossary: dict[str, str] = Field(default_factory=dict)
    budget_papers: int | None = Field(None, ge=0)
    budget_chars: int | None = Field(None, ge=0)
    timeout: float = Field(60.0, gt=0)


class SummaryConfig(_Section):
    """One-sentence TL;DRs through an OpenAI-compatible model (inherits translation's server)."""

    enabled: bool = False
    provider: Literal["openai"] = "openai"
    language: str = ""
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    budget_papers: int | None = Field(None, ge=0)


class EmailConfig(_Section):
    """The email digest of papers new since the last email (password from an env variable)."""

    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    subject_prefix: str = "[arxiv-radar]"
    send_empty: bool = False
    # Opt-in: also send papers announced up to this many days before the destination was added.
    backlog_days: int = Field(0, ge=0, le=3650)


class ChatConfig(_Section):
    """One chat destination; its webhook URL is a secret, so only the env variable is named."""

    service: Literal["slack", "discord", "feishu", "lark", "generic"]
    webhook_env: str = Field(min_length=1)
    secret_env: str = ""
    send_empty: bool = False
    backlog_days: int = Field(0, ge=0, le=3650)


class RankConfig(_Section):
    """Seed-based ranking settings shared by every topic (seeds themselves live on topics)."""

    feedback: str = "feedback.yml"  # up/down votes per topic, relative to the config
    classifier_min_labels: int = Field(20, ge=2)  # labels before a per-topic classifier runs
    top_picks: int = Field(5, ge=0, le=100)  # best N across topics on the README and email


class EndpointsConfig(_Section):
    api_url: str = "https://export.arxiv.org/api/query"
    rss_url: str = "https://rss.arxiv.org/rss"
    oai_url: str = "https://oaipmh.arxiv.org/oai"
    hf_url: str = "https://huggingface.co"
    pwc_url: str = "https://paperswithcode.co/api/v1"
    github_api_url: str = "https://api.github.com"
    zotero_url: str = "https://api.zotero.org"

    @field_validator("*")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")


class HttpConfig(_Section):
    request_interval: float = Field(3.0, ge=0)
    timeout: float = Field(30.0, gt=0)
    # Seconds one attempt may take in total, however the server drips its answer.
    request_deadline: float = Field(120.0, gt=0)
    # Decoded bytes one answer may have; a larger one is refused (a gzip bomb stops here).
    max_response_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    max_retries: int = Field(4, ge=0, le=20)
    # Seconds; the first retry waits up to this, doubling each time (tests use a tiny value).
    backoff_base: float = Field(2.0, ge=0)
    # Seconds fetch and enrich may spend in one run; null for no budget. GitHub kills the job
    # at 60 minutes: stopping cleanly before that keeps the run record and the publish step.
    run_budget: float | None = Field(2700.0, gt=0)
    retry_after_max: float = Field(30.0, ge=0)
    retry_after_per_host: float = Field(60.0, ge=0)
    retry_after_per_run: float = Field(180.0, ge=0)


class RadarConfig(_Section):
    """The whole file. Paths inside it are relative to the folder that holds the file."""

    repository: str = Field("", pattern=r"^$|^[\w.-]+/[\w.-]+$")
    categories: list[str] = Field(min_length=1)
    include_cross_lists: bool = True
    timezone: str = "UTC"
    lookback_days: int = Field(7, ge=1, le=365)
    max_gap_days: int = Field(30, ge=1, le=3650)
    database: str = "arxiv-radar.db"
    state_dir: str = "state"
    topics: list[TopicConfig] = Field(min_length=1)
    follow: list[str] = Field(default_factory=list)  # authors followed in every topic
    rank: RankConfig = Field(default_factory=RankConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    site: SiteConfig = Field(default_factory=SiteConfig)
    feeds: FeedsConfig = Field(default_factory=FeedsConfig)
    code_links: CodeLinksConfig = Field(default_factory=CodeLinksConfig)
    translation: TranslationConfig = Field(default_factory=TranslationConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    email: EmailConfig | None = None
    chat: list[ChatConfig] = Field(default_factory=list)
    endpoints: EndpointsConfig = Field(default_factory=EndpointsConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)

    _categories = field_validator("categories")(_check_categories)
    _follow = field_validator("follow")(_check_names)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like UTC or Asia/Shanghai"
            ) from None
        return value

    @field_validator("topics")
    @classmethod
    def _unique_names(cls, topics: list[TopicConfig]) -> list[TopicConfig]:
        seen: set[str] = set()
        for topic in topics:
            if topic.name.casefold() in seen:
                raise ValueError(f"two topics are named {topic.name!r}; names must be unique")
            seen.add(topic.name.casefold())
        return topics


@dataclass(frozen=True)
class Workspace:
    """A validated config plus where it lives; every relative path resolves against ``root``."""

    config: RadarConfig
    root: Path
    path: Path | None  # None when running on the built-in default config

    @property
    def site_url(self) -> str:
        """Where the published site lives, for absolute links in feeds and emails."""
        if self.config.site.url:
            return self.config.site.url.rstrip("/") + "/"
        if self.config.repository:
            owner, name = self.config.repository.split("/", 1)
            return f"https://{owner.lower()}.github.io/{name}/"
        return ""

    @property
    def database(self) -> Path:
        return self.root / self.config.database

    @property
    def state_dir(self) -> Path:
        """The committed text state (:mod:`arxiv_radar.store.snapshot`) the database comes from."""
        return self.root / self.config.state_dir

    def resolve(self, relative: str) -> Path:
        return self.root / relative


def starter_config_text() -> str:
    """The commented starter config `init` writes; it is also the built-in default."""
    return (resources.files("arxiv_radar") / "templates" / "arxiv-radar.yml").read_text("utf-8")


def load_workspace(
    path: Path | None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Workspace:
    """Load ``path``; when it is None, use ./arxiv-radar.yml, or the built-in default if absent."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    if path is None:
        candidate = cwd / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            config = _validate(starter_config_text(), "built-in default config", env)
            secrets.register_config(config, env)
            return Workspace(config=config, root=cwd, path=None)
        path = candidate
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found", fix="check the -c path or run `arxiv-radar init`"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read config file: {err}", fix="check the file") from None
    config = _validate(text, str(path), env)
    secrets.register_config(config, env)
    return Workspace(config=config, root=path.resolve().parent, path=path)


def parse_config(text: str, label: str, env: Mapping[str, str] | None = None) -> RadarConfig:
    """Validate config text that is not (yet) a file, e.g. one `import` is about to write."""
    return _validate(text, label, os.environ if env is None else env)


def _validate(text: str, label: str, env: Mapping[str, str]) -> RadarConfig:
    data, lines = _parse_yaml(text, label)
    if isinstance(data.get("keywords"), dict):
        # Fifteen "unknown key" errors would hide the one thing to do.
        raise ConfigError(
            f"{label}: this looks like a cv-arxiv-daily config.yaml: "
            "run `arxiv-radar import cv-arxiv-daily`",
            fix="it writes arxiv-radar.yml from this file and imports its docs/*.json history",
        )
    from_env = _apply_env(data, env)
    try:
        config = RadarConfig.model_validate(data)
    except ValidationError as err:
        problems = sorted(
            (_line_of(tuple(e["loc"]), lines), _describe(e, label, lines, from_env))
            for e in err.errors()
        )
        raise ConfigError(
            "\n".join(text for _, text in problems),
            fix="every key is described in the README's Configuration section",
        ) from None
    _check_topic_categories(config, label, lines)
    return config


def _covers(watched: str, code: str) -> bool:
    """Whether the listing of ``watched`` can carry papers of ``code`` (an archive such as
    ``cs`` carries every ``cs.*`` category, and ``cs.CV`` some of the archive ``cs``)."""
    return watched == code or code.split(".", 1)[0] == watched or watched.split(".", 1)[0] == code


def _check_topic_categories(
    config: RadarConfig, label: str, lines: Mapping[tuple[Any, ...], int]
) -> None:
    """A topic limited to categories no watched listing carries would get 0 papers forever:
    the daily listing and the gap fill only read the watched ``categories``."""
    problems = []
    for index, topic in enumerate(config.topics):
        codes = topic.categories
        if not codes or any(_covers(w, c) for w in config.categories for c in codes):
            continue
        line = _line_of(("topics", index, "categories"), lines)
        where = f"{label}, line {line}" if line else label
        problems.append(
            f"{where}, topics[{index}].categories: topic {topic.name!r} is limited to "
            f"{', '.join(codes)}, none of which is in the watched categories "
            f"({', '.join(config.categories)}), so it would never get a paper"
        )
    if problems:
        raise ConfigError(
            "\n".join(problems),
            fix="add the topic's categories to the top-level `categories` list, or remove the "
            "topic's `categories` to search all of arXiv",
        )


def _parse_yaml(text: str, label: str) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(
            f"{label}{where}: invalid YAML: {problem}",
            fix="check the indentation and quote values that contain ':' or '#'",
        ) from None
    if node is not None:
        _refuse_duplicate_keys(node, label)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: the config must be a mapping of keys (repository:, categories:, topics:)",
            fix="start from `arxiv-radar init`",
        )
    if node is not None:
        _seeds_as_written(node, data)
    return data, dict(_node_lines(node, ())) if node is not None else {}


def _seeds_as_written(root: yaml.Node, data: dict[str, Any]) -> None:
    """YAML reads an unquoted arXiv id like 2301.10000 as the float 2301.1; keep seed ids as
    the text the user wrote instead."""
    topics = next((v for k, v in root.value if k.value == "topics"), None)
    if not isinstance(root, yaml.MappingNode) or not isinstance(topics, yaml.SequenceNode):
        return
    for index, topic in enumerate(topics.value):
        if not isinstance(topic, yaml.MappingNode) or not isinstance(data["topics"][index], dict):
            continue
        for key, value in topic.value:
            if key.value == "seeds" and isinstance(value, yaml.SequenceNode):
                data["topics"][index]["seeds"] = [
                    item.value if isinstance(item, yaml.ScalarNode) else None
                    for item in value.value
                ]


def _refuse_duplicate_keys(node: yaml.Node, label: str) -> None:
    """YAML lets a repeated key silently win; in a config that hides a mistake, so refuse it."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise ConfigError(
                    f"{label}, line {line}: key {key_node.value!r} appears twice "
                    f"(first on line {seen[key_node.value]})",
                    fix="keep one of them",
                )
            seen[key_node.value] = line
            _refuse_duplicate_keys(value_node, label)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, label)


def _node_lines(node: yaml.Node, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Yield (key path, 1-based line) for every key and item, so errors can point at a line."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            yield child, key_node.start_mark.line + 1
            yield from _node_lines(value_node, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield (*path, index), item.start_mark.line + 1
            yield from _node_lines(item, (*path, index))


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    applied: dict[tuple[str, str], str] = {}
    for name, (section, key) in ENV_OVERRIDES.items():
        value = env.get(name)
        if value:
            target = data.setdefault(section, {})
            if isinstance(target, dict):
                target[key] = value
                applied[(section, key)] = name
    return applied


def _describe(
    error: Mapping[str, Any],
    label: str,
    lines: Mapping[tuple[Any, ...], int],
    from_env: Mapping[tuple[str, str], str],
) -> str:
    loc = tuple(error["loc"])
    key = _dotted(loc)
    env_name = from_env.get((str(loc[0]), str(loc[1]))) if len(loc) == 2 else None
    if env_name:
        where = f"environment variable {env_name} ({key})"
    else:
        line = _line_of(loc, lines)
        where = f"{label}, line {line}, {key}" if line else f"{label}, {key or 'top level'}"
    return f"{where}: {_message(error, loc)}"


def _line_of(loc: tuple[Any, ...], lines: Mapping[tuple[Any, ...], int]) -> int:
    """The line of the deepest part of ``loc`` present in the file (0 when none is)."""
    return next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 0)


def _message(error: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known keys: {', '.join(known)}"
        return f"unknown key {loc[-1]!r}; {hint}"
    if kind == "missing":
        return "this key is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in {
        "list_type",
        "string_type",
        "int_parsing",
        "float_parsing",
        "bool_parsing",
        "model_type",
        "dict_type",
        "int_type",
        "float_type",
    }:
        return f"{message} (got {error.get('input')!r})"
    return message


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (list indexes skipped), for typo suggestions."""
    model: type[BaseModel] = RadarConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            return []
        model = inner
    return sorted(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def display_language(workspace: Workspace) -> str | None:
    """The language whose translations and TL;DRs the pages show, if any are configured."""
    config = workspace.config
    if config.translation.provider != "none":
        return config.translation.language
    if config.summary.enabled:
        return config.summary.language or config.translation.language
    return None
