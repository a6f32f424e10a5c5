"""Writing a file into /mnt/data for the host, in chunks, as the sandbox's user, never through a link.

Backends without an archive API (Kubernetes: its attach carries only the supervisor's stdin and
stdout) move whole files in with "write" requests, one chunk each, in order:
  {"id", "op": "write", "path", "offset", "size", "data" (base64), "mode"?, "dirMode"?, "mtimeMs"?}
      -> {"id", "op": "write", "written", "done"} or {"id", "op": "write", "problem"}
The first chunk (offset 0) makes the folders on the way (dirMode, set if they exist) and creates
the file anew; each next one must start where the file ends; the one reaching `size` sets the mode
and the modification time. A folder on the way that the code replaced with a link or a file is
replaced by a folder in turn; a link where the file goes is removed, never followed.

Each request is done in a child process of uid/gid 1000 with no capabilities (the supervisor is
root): what it creates is the user's, and no permission of root's is lent to a path the user's code
laid out (setfsuid would do, but gVisor does not honour it). Problems: "invalid" (path, offset,
size or data), "out-of-order", "is-directory", "too-large" (more bytes than size), "no-space",
"failed".
"""

import base64
import binascii
import errno
import json
import os
import stat

from data_files import DATA_DIR
from data_read import MAX_PATH_CHARS, _open_no_link

MAX_WRITE_CHUNK = 8 << 20
SANDBOX_UID = 1000
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _parts(relative):
    if not isinstance(relative, str) or not relative or len(relative) > MAX_PATH_CHARS or "\0" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    return None if any(part in ("", ".", "..") for part in parts) else parts


def _folder_for(parts, dir_mode, first):
    """An fd of the folder the file goes in, each folder on the way made (or replaced) as needed."""
    folder = os.open(DATA_DIR, DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                seen = os.stat(part, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                seen = None
            if seen is not None and not stat.S_ISDIR(seen.st_mode):
                os.unlink(part, dir_fd=folder)
                seen = None
            if seen is None:
                os.mkdir(part, dir_mode, dir_fd=folder)
            inner = _open_no_link(part, DIR_FLAGS, folder)
            if first:
                os.fchmod(inner, dir_mode)
            os.close(folder)
            folder = inner
        return folder
    except BaseException:
        os.close(folder)
        raise


def _write(request):
    parts = _parts(request.get("path"))
    offset, size = request.get("offset"), request.get("size")
    mode, dir_mode = request.get("mode", 0o644), request.get("dirMode", 0o755)
    if parts is None or not all(isinstance(value, int) and value >= 0 for value in (offset, size, mode, dir_mode)) or offset > size:
        return {"problem": "invalid"}
    try:
        data = base64.b64decode(request.get("data") or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        return {"problem": "invalid"}
    if len(data) > MAX_WRITE_CHUNK:
        return {"problem": "invalid"}
    end = offset + len(data)
    if end > size:
        return {"problem": "too-large"}
    folder = _folder_for(parts, dir_mode & 0o7777, offset == 0)
    name = parts[-1]
    try:
        if offset == 0:
            try:
                seen = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                seen = None
            if seen is not None and stat.S_ISDIR(seen.st_mode):
                return {"problem": "is-directory"}
            if seen is not None:
                os.unlink(name, dir_fd=folder)
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
        else:
            fd = _open_no_link(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, folder)
    finally:
        os.close(folder)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != offset:
            return {"problem": "out-of-order"}
        view = memoryview(data)
        position = offset
        while view:
            written = os.pwrite(fd, view, position)
            view, position = view[written:], position + written
        if end == size:
            os.fchmod(fd, mode & 0o777)
            mtime = request.get("mtimeMs")
            if isinstance(mtime, int) and mtime >= 0:
                os.utime(fd, ns=(mtime * 1_000_000, mtime * 1_000_000))
        return {"written": end, "done": end == size}
    finally:
        os.close(fd)


def _write_as_user(request):
    try:
        return _write(request)
    except OSError as exc:
        return {"problem": "no-space" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else "failed"}


def write_chunk(request, drop_privileges):
    """One "write" request, done as uid 1000 in a child (as the supervisor's own user when it isn't root)."""
    answer = {"id": request.get("id"), "op": "write"}
    if not drop_privileges:
        return dict(answer, **_write_as_user(request))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.setgroups([])
            os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
            os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
            os.write(write_end, json.dumps(_write_as_user(request)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    try:
        outcome = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        outcome = {}
    if not isinstance(outcome, dict) or not outcome:
        outcome = {"problem": "failed"}
    return dict(answer, **outcome)
