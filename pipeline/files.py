"""Atomic file writing and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pipeline.errors import BpoKpoError

_HASH_BLOCK = 1 << 20


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds.

    The temporary file lives in the same folder so the final rename is atomic on POSIX: a reader sees the
    old file or the new one, never half of one, even if the process is killed mid-write.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise BpoKpoError(f"output folder {folder} does not exist; create it first")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise BpoKpoError(f"cannot write to {folder}: {error.strerror}") from error
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        # mkstemp creates 0600 files; give the result the permissions a plain open() would have.
        os.chmod(temporary_path, 0o666 & ~_current_umask())
        os.replace(temporary_path, path)
    finally:
        temporary_path.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing and rename it into place on success."""
    with atomic_path(path) as temporary, open(temporary, mode, **open_kwargs) as handle:
        yield handle


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, as UTF-8."""
    with atomic_writer(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def sha256_file(path: Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
