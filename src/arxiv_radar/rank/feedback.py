"""Reader feedback without a server: a committed ``feedback.yml`` of up- and down-votes per topic.

```yaml
Gaussian Splatting:
  up: [2611.00001]
  down: [2611.00007]
```
Up-votes act as extra seeds; down-votes push look-alikes down; with enough labels a per-topic
classifier joins in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import split_version

__all__ = ["Votes", "read_feedback"]

_FIX = "write it as 'Topic name: {up: [arXiv ids], down: [arXiv ids]}'"


@dataclass(frozen=True)
class Votes:
    up: tuple[str, ...] = ()
    down: tuple[str, ...] = ()

    @property
    def labels(self) -> int:
        return len(self.up) + len(self.down)


def _ids(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":  # "up:" with nothing after it
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of arXiv ids, got {value!r}", fix=_FIX)
    ids: dict[str, None] = {}
    for raw in value:
        try:
            ids[split_version(str(raw))[0]] = None
        except ValueError:
            raise ConfigError(f"{where}: {raw!r} is not an arXiv id", fix=_FIX) from None
    return tuple(ids)


def _votes(name: str, value: Any, path: Path) -> Votes:
    where = f"{path}, topic {name!r}"
    if not isinstance(value, dict) or set(value) - {"up", "down"}:
        raise ConfigError(f"{where}: expected the keys up and down", fix=_FIX)
    up, down = _ids(value.get("up"), f"{where}, up"), _ids(value.get("down"), f"{where}, down")
    both = sorted(set(up) & set(down))
    if both:
        raise ConfigError(f"{where}: {', '.join(both)} voted both up and down", fix="keep one")
    return Votes(up, down)


def read_feedback(path: Path, topics: Collection[str]) -> dict[str, Votes]:
    """Votes per topic name; a missing file means no feedback yet."""
    if not path.exists():
        return {}
    try:
        # Every scalar as text: unquoted 2301.10000 must not become the float 2301.1.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read feedback: {err}", fix=_FIX) from None
    if data is None or data == "":
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of topic names", fix=_FIX)
    unknown = sorted(str(name) for name in data if name not in topics)
    if unknown:
        raise ConfigError(
            f"{path}: unknown topic {unknown[0]!r}", fix="use a topic name from the config"
        )
    return {str(name): _votes(str(name), value, path) for name, value in data.items()}
