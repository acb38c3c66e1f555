"""Durable file operations on a results root: a local directory or a URI.

Local writes go to a unique hidden temporary name in the target's folder, are
fsynced, renamed into place (atomic on POSIX) and the folder is fsynced, so a
crash or power loss leaves either the old file or the whole new one. The
temporary file is created with mode 0666 minus the umask (as any file a
program creates), not mkstemp's 0600: collaborators on a shared filesystem
read each other's results.

A root with a scheme (s3://bucket/results, gs://..., file:///shared/results)
goes through pyarrow filesystems: object stores publish an object only once
its upload completes; other filesystems get the same temporary-name-and-rename
treatment.
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

# Filesystems whose writes publish a whole object at once (no rename needed).
_OBJECT_STORES = ("s3", "gcs", "abfs")


class StoreWriteError(OSError):
    """The results root cannot be written; the message names it and why."""


class StoreReadError(OSError):
    """A stored file is there but this user may not read it (or look at it): not damage (a colleague's result
    stays where it is, and is not trained again); the message names the file and what to do."""


def _not_permitted(root: str | Path, relpath: str, exc: OSError) -> StoreReadError:
    return StoreReadError(f"{where(root, relpath)}: cannot be read ({type(exc).__name__}: {exc.strerror or exc}); "
                          "it is not damage, so it is neither moved nor trained again: give this user read access "
                          "to it (or run as its owner), or move it out of the store yourself")


class StoreRootError(OSError):
    """The results root is a URI no filesystem here can open; the message names it and what is allowed."""


def is_uri(root: str | Path) -> bool:
    return "://" in str(root)


def uri_fs(root: str | Path) -> tuple[pafs.FileSystem, str] | None:
    """(filesystem, base path) when `root` is a URI with a scheme, else None (a local path)."""
    if not is_uri(root):
        return None
    try:
        fs, path = pafs.FileSystem.from_uri(str(root))
    # ArrowInvalid: an unknown scheme; OSError: a known one that cannot connect here (hdfs:// without a
    # JVM, s3:// without network or credentials).
    except (pa.ArrowException, OSError) as exc:
        raise StoreRootError(f"results root {str(root)!r} cannot be opened ({exc}); allowed: a local folder, or a "
                             "URI of a filesystem pyarrow supports here "
                             "(file://, s3://, gs://, abfs://, hdfs://)") from exc
    return fs, path.rstrip("/")


def check_root(root: str | Path) -> None:
    """StoreRootError unless `root` can be a results root: a URI a filesystem here opens, or a local path
    that is a folder or can become one (not empty, not a file, not a symbolic link loop)."""
    if str(root).strip() == "":
        raise StoreRootError("results root '' is empty; allowed: a folder path or a URI (s3://bucket/results)")
    if uri_fs(root) is not None:
        return
    path = Path(root).expanduser()
    try:
        path.resolve(strict=False)
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python < 3.13), OSError: ELOOP
        raise StoreRootError(f"results root {root} cannot be resolved ({exc}): a symbolic link loop?; allowed: "
                             "a folder, or a path where one can be created") from None
    if path.exists() and not path.is_dir():
        raise StoreRootError(f"results root {root} is a file; allowed: a folder, or a path where one can be created")


def where(root: str | Path, relpath: str) -> str:
    """How to name `root/relpath` to a user."""
    return f"{str(root).rstrip('/')}/{relpath}"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some filesystems do not open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_local(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    # O_EXCL on a fresh name; 0o666 so the umask alone decides who may read.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _write_uri(fs: pafs.FileSystem, path: str, data: bytes) -> None:
    parent, name = path.rsplit("/", 1)
    fs.create_dir(parent, recursive=True)
    if fs.type_name in _OBJECT_STORES:
        with fs.open_output_stream(path) as out:
            out.write(data)
        return
    tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open_output_stream(tmp) as out:
            out.write(data)
        fs.move(tmp, path)
    except BaseException:
        if fs.get_file_info(tmp).type != pafs.FileType.NotFound:
            fs.delete_file(tmp)
        raise


def write_bytes(root: str | Path, relpath: str, data: bytes) -> str:
    """Write `data` atomically to `root/relpath`; returns where."""
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        _write_uri(fs, f"{base}/{relpath}", data)
    else:
        write_local(Path(root) / relpath, data)
    return where(root, relpath)


def read_bytes(root: str | Path, relpath: str) -> bytes | None:
    """The bytes at `root/relpath`, or None if there is no such file (a dangling link reads as none);
    StoreReadError when it is there but this user may not read it."""
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        path = f"{base}/{relpath}"
        if fs.get_file_info(path).type != pafs.FileType.File:
            return None
        with fs.open_input_stream(path) as f:
            return f.read()
    path = Path(root) / relpath
    try:
        return path.read_bytes() if path.is_file() else None
    except PermissionError as exc:
        raise _not_permitted(root, relpath, exc) from None


def entry_kind(root: str | Path, relpath: str) -> str:
    """What is at `root/relpath`: "file", "missing", or (in words) what stands where a file should be."""
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        kind = fs.get_file_info(f"{base}/{relpath}").type
        return {pafs.FileType.File: "file", pafs.FileType.NotFound: "missing"}.get(kind, "a directory")
    path = Path(root) / relpath
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # (a non-folder above it is named where it stands)
        return "missing"
    except PermissionError as exc:
        raise _not_permitted(root, relpath, exc) from None
    except OSError as exc:
        return f"an entry that cannot be examined ({type(exc).__name__})"
    if stat.S_ISLNK(mode):
        target = path.exists()
        return "a dangling link" if not target else ("file" if path.is_file() else "a link to a non-file")
    if stat.S_ISREG(mode):
        return "file"
    return "a directory" if stat.S_ISDIR(mode) else "a special file (fifo, socket or device)"


def folder_blocker(root: str | Path, folder: str) -> str | None:
    """What stands at `root/folder` instead of a folder (a file, a dangling link), or None (a folder or nothing)."""
    kind = entry_kind(root, folder)
    if kind in ("missing", "a directory") or (kind == "a link to a non-file" and (Path(root) / folder).is_dir()):
        return None
    return "a file" if kind == "file" else kind


def list_names(root: str | Path, folder: str, suffix: str) -> list[str]:
    """Names of the entries in `root/folder` ending in `suffix`, hidden temporary files excluded.

    Every entry counts, whatever it is: a dangling link, a directory or a fifo
    stands where a result should be, so the caller checks it and moves it aside.
    """
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        infos = fs.get_file_info(pafs.FileSelector(f"{base}/{folder}", allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type in (pafs.FileType.File, pafs.FileType.Directory)
                      and i.base_name.endswith(suffix) and not i.base_name.startswith("."))
    path = Path(root) / folder
    if not path.is_dir():
        return []
    try:
        return sorted(p.name for p in path.iterdir() if p.name.endswith(suffix) and not p.name.startswith("."))
    except PermissionError as exc:
        raise _not_permitted(root, folder, exc) from None


def list_folders(root: str | Path) -> list[str]:
    """The folders directly under the root (the sweeps)."""
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        infos = fs.get_file_info(pafs.FileSelector(base, allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)
    path = Path(root)
    return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def move(root: str | Path, src: str, dst: str) -> str:
    """Rename `root/src` to `root/dst` (a link is moved as a link, never followed); returns where."""
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        fs.create_dir(f"{base}/{dst}".rsplit("/", 1)[0], recursive=True)
        fs.move(f"{base}/{src}", f"{base}/{dst}")
    else:
        target = Path(root) / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(root) / src, target)
        _fsync_dir(target.parent)
    return where(root, dst)


def delete(root: str | Path, relpath: str) -> None:
    remote = uri_fs(root)
    if remote is not None:
        fs, base = remote
        if fs.get_file_info(f"{base}/{relpath}").type != pafs.FileType.NotFound:
            fs.delete_file(f"{base}/{relpath}")
        return
    (Path(root) / relpath).unlink(missing_ok=True)


def probe_writable(root: str | Path) -> None:
    """Create the root if needed and write and remove a probe file; StoreWriteError says why not.

    Run before hours of training, so a result is never computed only to be lost.
    """
    name = f".bench-probe-{uuid.uuid4().hex}"
    try:
        check_root(root)
        if uri_fs(root) is None and Path(root).exists() and not Path(root).is_dir():
            raise StoreWriteError(f"results root {root} is a file, not a directory")
        write_bytes(root, name, b"probe")
        delete(root, name)
    except StoreWriteError:
        raise
    except StoreRootError as exc:  # already says what the root is and what is allowed
        raise StoreWriteError(str(exc)) from None
    except (OSError, ValueError) as exc:  # permissions, read-only fs, bad URI, missing bucket...
        raise StoreWriteError(f"results root {root} is not writable: {exc}") from None


__all__ = ["StoreReadError", "StoreRootError", "StoreWriteError", "check_root", "delete", "entry_kind",
           "folder_blocker", "is_uri", "list_folders", "list_names", "move", "probe_writable", "read_bytes", "uri_fs",
           "where", "write_bytes", "write_local"]
