"""Write output files safely (atomic for regular files, straight into devices and pipes) and hash file contents."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import select
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pipeline import config
from pipeline.errors import BpoKpoError

_HASH_BLOCK = 1 << 20
# Names of an open descriptor (/dev/stdout, /dev/fd/3, /proc/self/fd/1): whatever they point to, a file the shell
# opened or a pipe, is written in place, as the shell's own `>` would; renaming over them cannot work. The groups
# give the descriptor's number, and the process it belongs to when named by pid.
_DESCRIPTOR_NAME = re.compile(
    r"/dev/(?:(?P<standard>stdin|stdout|stderr)|fd/(?P<fd>\d+))"
    r"|/proc/(?:self|thread-self|(?P<pid>\d+))/fd/(?P<proc_fd>\d+)"
)


def own_descriptor(path: Path) -> int | None:
    """The number of this process's descriptor that `path` names (/dev/stdout, /dev/fd/3, /proc/self/fd/1), else
    None. Written through a copy of it, as bash's `>` does for these names: opening the name again would truncate a
    file the shell redirected into and write from its start, over what the shell wrote before and after."""
    match = _DESCRIPTOR_NAME.fullmatch(str(path))
    if not match or (match["pid"] and int(match["pid"]) != os.getpid()):
        return None
    if match["standard"]:
        return ("stdin", "stdout", "stderr").index(match["standard"])
    return int(match["fd"] or match["proc_fd"])


def writes_in_place(path: Path) -> bool:
    """True for a device, FIFO or socket (following symlinks) and for descriptor names: no temporary file."""
    if _DESCRIPTOR_NAME.fullmatch(str(path)):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # nothing there yet (or a dangling link): a new regular file
        return False


def follow_links(path: Path) -> Path:
    """The file a path really names: a symlink is followed to its target, so the link itself stays a link."""
    path = Path(path)
    try:
        is_link = path.is_symlink()
    except OSError:  # a name too long, a folder that may not be read: opening the path says so, naming it
        return path
    return Path(os.path.realpath(path)) if is_link else path


def check_output_folder(path: Path) -> None:
    """The folder an output goes into must be there: missing, or a file where it or a folder above it should be
    (said to be missing, which no one could mend by creating it)."""
    folder = Path(path).parent
    check_folder_can_be(folder, path)
    if not folder.is_dir():
        raise BpoKpoError(f"output folder {folder} does not exist; create it first")


def check_folder_can_be(folder: Path, output: Path | None = None) -> None:
    """Refuse a folder that a file stands in the way of, itself or one above it, before any work: train fitted its
    models for minutes, then stopped with `File exists` where it made the model's folder."""
    above = next((p for p in (Path(folder), *Path(folder).parents) if p.exists() or p.is_symlink()), None)
    if above is not None and not above.is_dir():
        raise BpoKpoError(f"cannot write {output or folder}: {above} is a file, not a folder")


def refuse_what_stands_in_the_way(paths: list[Path]) -> None:
    """Refuse, before any work, anything but a regular file where a file of the run's is to go: a folder, a link to
    nothing, a named pipe or a device. train fitted both models, wrote the model, then stopped there (at a named
    pipe, it waited for ever), leaving a model without metadata, or one without its scope model that scored with no
    scope fields."""
    for path in map(Path, paths):
        if path.is_dir():
            what = "a folder of that name"
        elif path.is_symlink() and not path.exists():
            what = f"a link to {os.readlink(path)}, which does not exist,"
        elif path.exists() and not path.is_file():
            what = "a named pipe, socket or device of that name"
        else:
            continue
        raise BpoKpoError(f"cannot write {path}: {what} is there; move it away, or name the model otherwise")


def check_folder_writable(folder: Path, output: Path) -> None:
    """Refuse, before minutes of fitting, a folder (or the nearest one above it that exists) that may not be written:
    read-only, immutable or another user's, where train fitted every model first. A file made and dropped there
    says so, as permission bits cannot for root. A device or descriptor name (/dev/fd/1) is written in place."""
    above = next((p for p in (Path(folder), *Path(folder).parents) if p.is_dir()), None)
    if above is None or writes_in_place(Path(output)):
        return
    try:
        tempfile.TemporaryFile(dir=above).close()
    except OSError as error:
        raise BpoKpoError(f"cannot write {output}: {above}: {error.strerror or error}") from None


def _write_error(path: Path, error: OSError) -> BpoKpoError:
    return BpoKpoError(f"cannot write {path}: {error.strerror or error}")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a path to write `path` through; a regular file is replaced atomically and durably.

    For a regular file (or a new one) the yielded path is a temporary file in the same folder: once the block
    succeeds it is synced, given the old file's permissions and owner, renamed over `path`, and the folder is
    synced, so after a crash or power loss a reader sees the old file or the whole new one. A device, FIFO or
    socket (`/dev/null`, `/dev/stdout`, a named pipe) is not a file to replace: it is yielded itself and
    written straight into. A symlink is followed and its target written, so the link stays.
    """
    if str(path) == config.STANDARD_STREAM:
        raise BpoKpoError("this output cannot go to standard output ('-'); give a file name")
    if Path(path).is_dir():
        raise BpoKpoError(f"{path} is a directory; give a file name inside it")
    if writes_in_place(path):
        try:
            yield Path(path)
        except BrokenPipeError:
            raise  # the reader of a pipe went away (`--output /dev/stdout | head`): a quiet stop, as on stdout
        except OSError as error:
            raise _write_error(Path(path), error) from None
        return
    path = follow_links(path)
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    folder = path.parent
    check_output_folder(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise BpoKpoError(f"cannot write to {folder}: {error.strerror}") from error
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        _sync(temporary_path)
        _copy_mode_and_owner(temporary_path, existing)
        os.replace(temporary_path, path)
        _sync(folder)
    except OSError as error:
        # Name the file the user asked for, never the hidden temporary one.
        raise _write_error(path, error) from None
    finally:
        temporary_path.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    """Flush a file's (or a folder's) data to the disk, so a rename cannot outlive the bytes it points to."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:
        if not path.is_dir():  # some file systems cannot sync a folder; the file itself is what must not fail
            raise
    finally:
        os.close(descriptor)


def _copy_mode_and_owner(temporary: Path, existing: os.stat_result | None) -> None:
    """Give the new file the permissions and owner of the file it replaces, or those a plain open() gives."""
    if existing is None:
        # mkstemp creates 0600 files; give a new file the permissions a plain open() would have.
        os.chmod(temporary, 0o666 & ~_current_umask())
        return
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # only root may give a file away; others keep their own ownership
            os.chown(temporary, existing.st_uid, existing.st_gid)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open `path` for writing through `atomic_path`; '-' is standard output, left open for the caller. A name
    ending in .gz, .bz2 or .xz is written compressed."""
    if str(path) == config.STANDARD_STREAM:
        if sys.stdout is None:
            raise BpoKpoError("standard output is closed; give a file name instead of '-'")
        yield sys.stdout.buffer if "b" in mode else sys.stdout
        sys.stdout.flush()
        return
    descriptor = own_descriptor(path)
    if descriptor is not None:
        from pipeline.process import CLOSED_AT_START

        if descriptor in CLOSED_AT_START:
            # /dev/null stands in for it: the results would be thrown away, and the run say it wrote them.
            name = ("standard input", "standard output", "standard error")[descriptor]
            raise BpoKpoError(f"{path} is {name}, which is closed; give a file name")
    compression = config.compression_of(path)
    with atomic_path(path) as temporary:
        try:
            if descriptor is not None and sys.stdout is not None:
                sys.stdout.flush()  # what this process printed before goes first, as it would through `>`
            target = os.dup(descriptor) if descriptor is not None else temporary
            # A compressor writes bytes into the file; it takes the mode and text options itself.
            file = open(target, mode, **open_kwargs) if compression is None else open(target, "wb")  # noqa: SIM115
        except OSError as error:
            raise _write_error(Path(path), error) from None
        # Closed here, inside atomic_path: the compressor first (writing its end), then the file it leaves open.
        with file, _compressed(file, mode, compression, open_kwargs, Path(path).name) as handle:
            yield handle


def _compressed(file: IO, mode: str, compression: str | None, open_kwargs: dict, name: str):
    """`file` itself, or a writer that compresses into it with the standard-library module named."""
    if compression is None:
        return contextlib.nullcontext(file)
    if compression == "gzip":
        import gzip

        # gzip's header names the file and its time: given the open temporary file, it named that
        # (".out.csv.gz.x1y2.tmp", which `gunzip -N` restores), and the time made each run's bytes differ.
        # The name stored is the file's without `.gz`, which gzip strips in lower case only (X.CSV.GZ kept it).
        stored = name[:-3] if name.lower().endswith(".gz") else name
        binary = gzip.GzipFile(filename=stored, mode="wb", fileobj=file, mtime=0)
        return binary if "b" in mode else io.TextIOWrapper(binary, **open_kwargs)
    import importlib

    return importlib.import_module(compression).open(file, "wb" if "b" in mode else "wt", **open_kwargs)


class WholeWrites(io.FileIO):
    """A descriptor that writes every byte or raises: the raw layer of standard output, under its buffer, or under its
    text layer when Python runs it unbuffered (`python -u`, or PYTHONUNBUFFERED, which containers often set;
    process.whole_standard_output). Unbuffered, the text layer writes straight to the descriptor and ignores a short
    write: on a full disk or past a file-size limit, results stopped mid-row and the run ended with exit 0. Here the
    write that fails raises its own error (ENOSPC, EFBIG), and a descriptor set non-blocking (a slow reader's pipe)
    is waited on, not spun on: Python's own buffered writer gave up there, with the output lost and exit 120."""

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            written = super().write(view)
            if written is None:  # non-blocking and full: wait until the reader makes room
                select.select([], [self], [])
                continue
            view = view[written:]
        return size


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, as UTF-8 ('-': standard output; compressed if named so)."""
    with atomic_writer(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def sha256_file(path: Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: Path, what: str) -> dict:
    """A project JSON file as data; a missing or malformed one is a DataError that names `what` and the path."""
    import json

    from pipeline.errors import DataError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=object_without_repeats)
    except FileNotFoundError as error:
        raise DataError(f"{what} {path} is missing") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{what} {path} is not valid UTF-8 JSON: {error}") from error
    except RepeatedKey as error:
        raise DataError(f"{what} {path} repeats the key(s) {error} in one object: give each its own name") from None


class RepeatedKey(ValueError):
    """A JSON object names a key twice: json.loads keeps the last value, so a record or a catalogue file that says
    "label" twice was read with the second one, with exit 0, where a CSV that repeats a column is refused."""


def object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    """json.loads' object_pairs_hook that raises RepeatedKey, naming the keys, for an object that repeats one."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) < len(keys):
        raise RepeatedKey(", ".join(repr(key) for key in sorted({key for key in keys if keys.count(key) > 1})))
    return dict(pairs)
