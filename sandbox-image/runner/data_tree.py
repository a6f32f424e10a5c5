"""The host's view of /mnt/data for durable workspaces: listings with sizes, and small files in bulk.

  tree      the regular files under /mnt/data (never .codebot, never links or special files), in a
            fixed order (each folder's entries sorted by name, depth first), a page at a time: the
            host asks from an index and gets at most maxEntries of them (and at most TREE_PAGE_BYTES
            of JSON), each {path, size, mtimeMs}. size is st_size, the length a copy has: a sparse
            file counts at its full (apparent) length. A path that can't be named exactly as text
            (undecodable bytes, control characters, over 1024 characters) is counted in "unnamed".
  stat      the same {size, mtimeMs} for named paths, or null where there is no regular file.
  readMany  named files whole, in order, while they fit maxBytes (at most READ_MANY_BYTES) in all:
            each {size, mtimeMs, data (base64)} or null (not a regular file, or over
            maxFileBytes); the answer stops before the first that would not fit. So many small
            files cross in one answer, where the engine's archive API takes 60 ms or more a call.

Every component of a path is opened relative to the one before, a link refused (data_read.py).
Between requests the session's code is stopped and its other processes killed, so what the host
lists is what it then reads; the host checks every size again against what it reads all the same.
"""

import base64
import json
import os
import stat

from data_files import DATA_DIR, HIDDEN_NAME, printable_path
from data_read import MAX_PATH_CHARS, _open_no_link

MAX_LISTED_PATH = 1024  # characters of a listed path (the host's object names are at most 1024 bytes)
TREE_PAGE_BYTES = 1 << 20
MAX_PAGE_ENTRIES = 10000
MAX_NAMED_PATHS = 2000  # paths per stat or readMany request
READ_MANY_BYTES = 1 << 20
MAX_OPEN_FOLDERS = 64  # the supervisor runs under the sandbox's open-file limit (SANDBOX_NOFILE)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _regular_files():
    """(relative path, DirEntry) of each regular file under /mnt/data but .codebot, in a fixed order."""
    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(os.path.join(DATA_DIR, folder) if folder else DATA_DIR) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        below = []
        for entry in entries:
            if not folder and entry.name == HIDDEN_NAME:
                continue
            path = "%s/%s" % (folder, entry.name) if folder else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    below.append(path)
                elif entry.is_file(follow_symlinks=False):
                    yield path, entry
            except OSError:
                continue
        stack.extend(reversed(below))


def _described(info):
    return {"size": info.st_size, "mtimeMs": info.st_mtime_ns // 1_000_000}


def _count(value, low, high, fallback):
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, low), high)
    return fallback


def list_tree(request):
    """{"op": "tree", "start", "maxEntries"} -> {"files": [{path, size, mtimeMs}], "unnamed", "next"}."""
    start = _count(request.get("start"), 0, 1 << 40, 0)
    limit = _count(request.get("maxEntries"), 1, MAX_PAGE_ENTRIES, MAX_PAGE_ENTRIES)
    files, unnamed, used, index, following = [], 0, 64, -1, None
    for index, (path, entry) in enumerate(_regular_files()):
        if index < start:
            continue
        if len(files) >= limit or used > TREE_PAGE_BYTES:
            following = index
            break
        if printable_path(path) != path or len(path) > MAX_LISTED_PATH:
            unnamed += 1
            continue
        try:
            described = dict(_described(entry.stat(follow_symlinks=False)), path=path)
        except OSError:
            continue
        used += len(json.dumps(described)) + 2
        files.append(described)
    return {"id": request.get("id"), "op": "tree", "files": files, "unnamed": unnamed, "next": following}


def _parts(relative):
    """The segments of a relative path under /mnt/data, or None (absolute, "..", empty segments)."""
    if not isinstance(relative, str) or not relative or len(relative) > MAX_PATH_CHARS or "\0" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return parts


class _Folders:
    """fds of folders under a root, each component opened without following a link, kept while a
    batch goes through them (paths come grouped by folder); at most MAX_OPEN_FOLDERS at once."""

    def __init__(self, root_fd):
        self.fds = {(): root_fd}

    def get(self, parts):
        key = tuple(parts)
        if key in self.fds:
            return self.fds[key]
        if len(self.fds) > MAX_OPEN_FOLDERS:
            root = self.fds.pop(())
            for fd in self.fds.values():
                os.close(fd)
            self.fds = {(): root}
        depth = len(key)
        while key[:depth] not in self.fds:
            depth -= 1
        fd = self.fds[key[:depth]]
        for at in range(depth, len(key)):
            fd = _open_no_link(key[at], DIR_FLAGS, fd)
            self.fds[key[:at + 1]] = fd
        return fd

    def close(self):
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


def _named_paths(request):
    """The request's paths (at most MAX_NAMED_PATHS), or None."""
    paths = request.get("paths")
    if not isinstance(paths, list) or len(paths) > MAX_NAMED_PATHS:
        return None
    return paths


def _per_path(paths, look):
    """look(folder fd, last name) for each path, its folders opened without following a link; None
    where the path is not one (absolute, "..") or look fails."""
    folders = _Folders(os.open(DATA_DIR, DIR_FLAGS))
    try:
        for path in paths:
            parts = _parts(path)
            try:
                yield look(folders.get(parts[:-1]), parts[-1]) if parts else None
            except OSError:
                yield None
    finally:
        folders.close()


def stat_files(request):
    """{"op": "stat", "paths"} -> {"files": [{size, mtimeMs} or null, one per path]}."""
    answer = {"id": request.get("id"), "op": "stat"}
    paths = _named_paths(request)
    if paths is None:
        return dict(answer, op="error", message="stat needs at most %d paths" % MAX_NAMED_PATHS)
    infos = _per_path(paths, lambda folder, name: os.stat(name, dir_fd=folder, follow_symlinks=False))
    return dict(answer, files=[_described(info) if info is not None and stat.S_ISREG(info.st_mode) else None for info in infos])


def _read_whole(fd, size):
    chunks, left = [], size
    while left > 0:
        chunk = os.pread(fd, min(left, 1 << 20), size - left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_many(request):
    """{"op": "readMany", "paths", "maxBytes", "maxFileBytes"} -> {"files": [{size, mtimeMs, data} or null]},
    as many of the paths, in order, as fit maxBytes together."""
    answer = {"id": request.get("id"), "op": "readMany"}
    paths = _named_paths(request)
    if paths is None:
        return dict(answer, op="error", message="readMany needs at most %d paths" % MAX_NAMED_PATHS)
    room = _count(request.get("maxBytes"), 0, READ_MANY_BYTES, READ_MANY_BYTES)
    per_file = _count(request.get("maxFileBytes"), 0, READ_MANY_BYTES, READ_MANY_BYTES)
    files = []
    # O_NOFOLLOW refuses a link in the last place (gVisor's exception is O_DIRECTORY only: folders go through _open_no_link).
    opened = _per_path(paths, lambda folder, name: os.open(name, FILE_FLAGS, dir_fd=folder))
    for fd in opened:
        if fd is None:
            files.append(None)
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > per_file:
                files.append(None)
                continue
            if info.st_size > room:
                break
            data = _read_whole(fd, info.st_size)
            room -= len(data)
            files.append(dict(_described(info), size=len(data), data=base64.b64encode(data).decode("ascii")))
        finally:
            os.close(fd)
    opened.close()
    return dict(answer, files=files)
