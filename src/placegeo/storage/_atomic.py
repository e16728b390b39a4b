"""Write beside a target, then rename over it: the one place placegeo replaces a file.

A reader of the target sees the old file or the new one, never a half-written one, and a failure
(a crash included) leaves the target as it was. The new file and its folder are synced before and
after the rename, so the replacement survives a power cut once the call returns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["fsync_folder", "replacing", "write_bytes", "write_text"]


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename inside ``folder`` durable."""
    fd = os.open(Path(folder).resolve(), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                _fsync(child)
        fsync_folder(path)
        return
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def replacing(target: str | os.PathLike, *, copy: bool = False, tag: str = "tmp") -> Iterator[Path]:
    """A path beside ``target`` to write to; it replaces ``target`` when the block ends without error.

    Parameters
    ----------
    target : path
        The file (or folder) to replace; its folder is created if needed.
    copy : bool
        Start from a copy of ``target`` (when it exists) instead of nothing.
    tag : str
        A word in the temporary name, to tell in a listing what was being written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("new")
    >>> target.read_text()
    'new'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = target.name.partition(".")  # the extension stays last: drivers and readers go by it
    tmp = target.with_name(f".{stem}.{uuid.uuid4().hex[:12]}.{tag}{dot}{ext}")
    try:
        if copy and target.exists():
            shutil.copyfile(target, tmp)
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to replace '{target}'")
        _fsync(tmp)
        if tmp.is_dir() and target.is_dir():
            shutil.rmtree(target)  # a folder cannot be renamed over a full one
        os.replace(tmp, target)
        fsync_folder(target.parent)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):  # SQLite's side files of a staged GeoPackage
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Replace ``target`` with ``data`` atomically; returns the target's path."""
    with replacing(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Replace ``target`` with ``text`` atomically; returns the target's path."""
    return write_bytes(target, text.encode(encoding))
