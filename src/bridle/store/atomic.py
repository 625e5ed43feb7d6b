"""The one way bridle writes a whole file for the user or the model: atomically,
through symlinks, keeping the file's mode.

`atomic_write` resolves the path first (`os.path.realpath`), so a symlinked file
stays a link and the file it points to gets the new bytes; a dangling link gets
its target created, never the link replaced. The bytes go to a temp file in the
target's own directory (so the rename cannot cross file systems), which is
fsynced, given the old file's mode (or, for a new file, the given mode, else
`0o666` less the umask), renamed over the target with `os.replace`, and then the
directory is fsynced: a reader sees the old bytes or the new ones, never a mix,
and a crash leaves one of the two on disk. Owner and group are kept when the
process may set them. A replaced file is a new inode, so other hard links keep
the old content. This module does not decide whether a write is allowed, and
does not keep backups; callers do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

TEMP_SUFFIX = ".bridle-tmp"


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Replace the file at `path` (through any symlinks) with `data`.

    The existing file keeps its mode; a new file gets `mode`, or `0o666 & ~umask`
    when `mode` is None. Missing parent directories are created. Returns the path
    actually written (the symlink's target when `path` is a link). Raises
    `OSError` (with the real path in it) when the write cannot be done; the
    target is then unchanged."""
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops at a symlink loop
        raise OSError(errno.ELOOP, "too many levels of symbolic links", str(path))
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise OSError(errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL, what, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    new_mode = stat.S_IMODE(st.st_mode) if st is not None else _default_mode(mode)
    fd, tmp = new_temp_file(target.parent, f".{target.name}.", TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), new_mode)
            if st is not None and (st.st_uid, st.st_gid) != _owner(f.fileno()):
                # Root editing a user's file must not hand it to root; an ordinary
                # user cannot chown and keeps what the file system gives.
                with contextlib.suppress(OSError):
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return target


def new_temp_file(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new, empty, owner-only file in `directory`, open for writing: what
    `tempfile.mkstemp` makes, without the import of `tempfile` and `random` that
    would cost every run's start-up more than this function."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = str(directory / f"{prefix}{os.urandom(5).hex()}{suffix}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "no free temporary file name", str(directory))


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> Path:
    """`atomic_write` of `text` as UTF-8. Lone surrogates that stand for bytes
    read with `surrogateescape` are written back as those bytes; any other lone
    surrogate (half of a cut emoji) becomes U+FFFD, so text never fails to write."""
    return atomic_write(path, encode_text(text), mode=mode)


def encode_text(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _UNESCAPABLE.sub("\ufffd", text).encode("utf-8", "surrogateescape")


# Surrogates that `surrogateescape` cannot turn back into a byte.
_UNESCAPABLE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _default_mode(mode: int | None) -> int:
    return mode if mode is not None else 0o666 & ~_umask()


def _owner(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_uid, st.st_gid


def _umask() -> int:
    # os.umask() can only be read by setting it, which would race with other
    # threads creating files; Linux shows it read-only in /proc.
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename is done
    finally:
        os.close(fd)
