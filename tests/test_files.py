"""Atomic write-if-changed: real files under tmp_path, real failures (no mocks).

Durability is checked by wrapping ``os.fsync`` and ``os.sync`` (they still run) to count the
calls; ``test_publish_sync.py`` counts them through a real publish.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar.durability import fsync_each, sync_written
from arxiv_radar.errors import StageError
from arxiv_radar.publish.files import WriteSet, synced_once, write_if_changed

OLD_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09, far from "now"


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write may have left behind (they all end in .tmp)."""
    return sorted(p.name for p in folder.rglob("*.tmp"))


def age(path: Path) -> None:
    os.utime(path, ns=(OLD_NS, OLD_NS))


def test_creates_parents_and_writes_exact_utf8_bytes(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "archive" / "2026-10.md"
    assert write_if_changed(target, "naïve | $x$\nline two\n") is True
    assert target.read_bytes() == "naïve | $x$\nline two\n".encode()
    assert leftovers(tmp_path) == []


def test_identical_content_is_not_rewritten_and_keeps_mtime(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    write_if_changed(target, "same\n")
    age(target)
    assert write_if_changed(target, "same\n") is False
    assert write_if_changed(target, iter(["sa", "me\n"])) is False
    assert target.stat().st_mtime_ns == OLD_NS
    assert leftovers(tmp_path) == []


def test_bytes_are_written_as_given_and_identical_bytes_are_not_rewritten(
    tmp_path: Path,
) -> None:
    target = tmp_path / "data" / "papers.json.gz"
    payload = bytes(range(256)) * 4  # not UTF-8: written as given, never encoded
    assert write_if_changed(target, payload) is True
    assert target.read_bytes() == payload
    os.utime(target, ns=(OLD_NS, OLD_NS))
    assert write_if_changed(target, payload) is False
    assert target.stat().st_mtime_ns == OLD_NS
    assert write_if_changed(target, payload[::-1]) is True
    assert target.read_bytes() == payload[::-1]
    assert leftovers(tmp_path) == []


def test_changed_content_is_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    write_if_changed(target, "old\n")
    age(target)
    assert write_if_changed(target, "new\n") is True
    assert target.read_text(encoding="utf-8") == "new\n"
    assert target.stat().st_mtime_ns != OLD_NS


def test_streamed_chunks_are_written_in_order(tmp_path: Path) -> None:
    target = tmp_path / "big.md"
    assert write_if_changed(target, (f"row {i}\n" for i in range(1000))) is True
    assert target.read_text(encoding="utf-8").splitlines()[-1] == "row 999"


def test_content_failing_midway_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    write_if_changed(target, "old\n")

    def chunks() -> Iterator[str]:
        yield "half of a new page\n"
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_if_changed(target, chunks())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path) == []


def test_replace_failure_raises_stage_error_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    target.mkdir()  # a folder where the file should go: the final rename must fail
    with pytest.raises(StageError, match=r"README\.md") as caught:
        write_if_changed(target, "content\n")
    assert caught.value.fix
    assert target.is_dir()
    assert leftovers(tmp_path) == []


def test_parent_that_is_a_file_raises_stage_error(tmp_path: Path) -> None:
    (tmp_path / "docs").write_text("not a folder", encoding="utf-8")
    with pytest.raises(StageError, match=r"index\.md"):
        write_if_changed(tmp_path / "docs" / "index.md", "x\n")
    assert (tmp_path / "docs").read_text(encoding="utf-8") == "not a folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_raises_and_keeps_old_file(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    target = folder / "README.md"
    write_if_changed(target, "old\n")
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(StageError, match=r"README\.md"):
            write_if_changed(target, "new\n")
    finally:
        folder.chmod(stat.S_IRWXU)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_modes_new_files_0644_existing_mode_kept(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.md"
    write_if_changed(fresh, "a\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    fresh.chmod(0o600)
    write_if_changed(fresh, "b\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_write_set_commits_only_changed_files_sorted(tmp_path: Path) -> None:
    write_if_changed(tmp_path / "same.md", "same\n")
    age(tmp_path / "same.md")
    pages = WriteSet()
    pages.add(tmp_path / "b.md", "b\n")
    pages.add(tmp_path / "same.md", "same\n")
    pages.add(tmp_path / "a" / "a.md", "first\n")
    pages.add(tmp_path / "a" / "a.md", "second\n")
    assert len(pages) == 3
    assert pages.commit() == [tmp_path / "a" / "a.md", tmp_path / "b.md"]
    assert (tmp_path / "a" / "a.md").read_text(encoding="utf-8") == "second\n"
    assert (tmp_path / "same.md").stat().st_mtime_ns == OLD_NS
    assert pages.commit() == []


def test_write_set_stages_everything_before_replacing_anything(tmp_path: Path) -> None:
    write_if_changed(tmp_path / "a.md", "old a\n")
    (tmp_path / "z").write_text("a file where a folder is needed", encoding="utf-8")
    pages = WriteSet()
    pages.add(tmp_path / "a.md", "new a\n")
    pages.add(tmp_path / "z" / "z.md", "cannot be written\n")
    with pytest.raises(StageError, match=r"z\.md"):
        pages.commit()
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "old a\n"
    assert leftovers(tmp_path) == []


needs_sync = pytest.mark.skipif(not hasattr(os, "sync"), reason="os.sync is POSIX")


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the ``os.fsync``/``os.sync`` calls made from now on, in order."""
    calls: list[str] = []

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls.append(name)
            return real(*args)

        return call

    for name in ("fsync", "sync"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, counted(name, getattr(os, name)))
    return calls


def test_a_lone_write_fsyncs_the_file_before_its_rename_then_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "arxiv-radar.yml"
    write_if_changed(target, "old\n")
    seen: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append(target.read_text(encoding="utf-8"))  # what the target held at that moment
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_if_changed(target, "new\n")
    assert seen == ["old\n", "new\n"]  # the temporary file, then the folder after the rename


@needs_sync
def test_inside_a_block_nothing_is_fsynced_and_one_sync_ends_it(
    tmp_path: Path, syncs: list[str]
) -> None:
    write_if_changed(tmp_path / "same.md", "same\n")
    syncs.clear()
    with synced_once() as batch:
        for n in range(30):
            write_if_changed(tmp_path / f"month-{n % 3}" / f"{n}.html", f"page {n}\n")
        write_if_changed(tmp_path / "same.md", "same\n")
        pages = WriteSet()
        pages.add(tmp_path / "README.md", "readme\n")
        pages.commit()
        assert (tmp_path / "month-2" / "29.html").read_text(encoding="utf-8") == "page 29\n"
        assert syncs == []
    assert syncs == ["sync"]
    assert len(batch.paths) == 31 and tmp_path / "same.md" not in batch.paths
    assert leftovers(tmp_path) == []


@needs_sync
def test_a_block_inside_a_block_syncs_once_at_the_outer_end(
    tmp_path: Path, syncs: list[str]
) -> None:
    with synced_once():
        with synced_once():
            write_if_changed(tmp_path / "a.md", "a\n")
        assert syncs == []
        write_if_changed(tmp_path / "b.md", "b\n")
    assert syncs == ["sync"]


def test_a_block_that_changes_nothing_syncs_nothing(tmp_path: Path, syncs: list[str]) -> None:
    write_if_changed(tmp_path / "a.md", "a\n")
    syncs.clear()
    with synced_once():
        assert write_if_changed(tmp_path / "a.md", "a\n") is False
    assert syncs == []


@needs_sync
def test_a_block_that_fails_syncs_nothing_and_leaves_whole_files(
    tmp_path: Path, syncs: list[str]
) -> None:
    with pytest.raises(RuntimeError, match="renderer crashed"), synced_once():
        write_if_changed(tmp_path / "a.md", "a\n")
        raise RuntimeError("renderer crashed")
    assert syncs == []  # the caller records nothing either: the next publish writes again
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "a\n"
    with synced_once():  # the failed block is closed: a new one is a batch of its own
        write_if_changed(tmp_path / "b.md", "b\n")
    assert syncs == ["sync"]


@needs_sync
def test_sync_written_is_one_call_however_many_files(tmp_path: Path, syncs: list[str]) -> None:
    paths = [tmp_path / f"{n}.md" for n in range(50)]
    for path in paths:
        path.write_text("x\n", encoding="utf-8")
    sync_written([])
    assert syncs == []
    sync_written(paths)
    assert syncs == ["sync"]


def test_fsync_each_flushes_every_file_and_every_folder_once(
    tmp_path: Path, syncs: list[str]
) -> None:
    paths = [tmp_path / "a" / "1.md", tmp_path / "a" / "2.md", tmp_path / "b" / "3.md"]
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        path.write_text("x\n", encoding="utf-8")
    fsync_each(paths)
    assert syncs == ["fsync"] * (3 + 2 if os.name == "posix" else 3)  # no folder handles on NT


def test_fsync_each_names_the_file_it_cannot_flush(tmp_path: Path) -> None:
    with pytest.raises(StageError, match=r"gone\.md") as caught:
        fsync_each([tmp_path / "gone.md"])
    assert caught.value.fix
