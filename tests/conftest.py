from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.http import LocalServer, local_server


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 for the test to program."""
    with local_server() as running:
        yield running
