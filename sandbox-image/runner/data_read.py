"""Reading a file of /mnt/data for the host, in chunks, without following links.

The supervisor runs as root and the folder is the user's: every component of the path is opened
relative to the one before with O_NOFOLLOW, so a link (to /proc/1/mem, to /etc/shadow) is refused
rather than followed, and only a regular file is read (a FIFO never blocks the supervisor).
"""

import base64
import os
import stat

from data_files import DATA_DIR

MAX_CHUNK = 8 << 20
MAX_PATH_CHARS = 4096


def _open_no_link(name, flags, folder):
    """Opens name in folder, refusing a link. O_NOFOLLOW alone is not enough: gVisor follows a
    link opened with O_NOFOLLOW | O_DIRECTORY. So the entry is looked at first, and the opened
    file must be that very entry (a link swapped in between is caught by its inode)."""
    seen = os.stat(name, dir_fd=folder, follow_symlinks=False)
    if stat.S_ISLNK(seen.st_mode):
        raise OSError("a link")
    fd = os.open(name, flags, dir_fd=folder)
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
        os.close(fd)
        raise OSError("changed while opened")
    return fd


def _open_under_data(relative):
    """A read-only fd of the regular file at relative (under /mnt/data), or a problem word."""
    if not isinstance(relative, str) or not relative or len(relative) > MAX_PATH_CHARS or "\0" in relative or relative.startswith("/"):
        return None, "not-found"
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None, "not-found"
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        folder = os.open(DATA_DIR, flags | os.O_DIRECTORY)
    except OSError:
        return None, "not-found"
    try:
        for part in parts[:-1]:
            inner = _open_no_link(part, flags | os.O_DIRECTORY, folder)
            os.close(folder)
            folder = inner
        fd = _open_no_link(parts[-1], flags | os.O_NONBLOCK, folder)
    except OSError:
        return None, "not-found"
    finally:
        os.close(folder)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None, "not-regular"
    return fd, None


def read_chunk(request):
    """{"id", "op": "read", "path", "offset", "length", "maxBytes"} -> one chunk of the file, base64."""
    answer = {"id": request.get("id"), "op": "read"}
    fd, problem = _open_under_data(request.get("path"))
    if problem:
        return dict(answer, problem=problem)
    try:
        size = os.fstat(fd).st_size
        limit = request.get("maxBytes")
        if isinstance(limit, int) and size > limit:
            return dict(answer, problem="too-large", size=size)
        offset = request.get("offset", 0)
        length = request.get("length", MAX_CHUNK)
        offset = offset if isinstance(offset, int) and offset >= 0 else 0
        length = min(length, MAX_CHUNK) if isinstance(length, int) and length > 0 else MAX_CHUNK
        data = os.pread(fd, length, offset)
        return dict(answer, size=size, offset=offset, data=base64.b64encode(data).decode("ascii"), eof=offset + len(data) >= size)
    finally:
        os.close(fd)
