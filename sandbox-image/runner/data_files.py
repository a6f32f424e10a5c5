"""What is in /mnt/data: the files an execution created or changed, and whether the disk is full."""

import mimetypes
import os

from capped_buffer import human_bytes

DATA_DIR = "/mnt/data"
MAX_WALKED_FILES = 5000
MAX_PATH_CHARS = 1024


def printable_path(path):
    """A path as text the host can use: undecodable bytes and control characters replaced."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch >= " " and ch != "\x7f" else "\ufffd" for ch in text)


def snapshot_files():
    """Regular files under /mnt/data (links and special files are never reported), by path."""
    found = {}
    for root, dirs, names in os.walk(DATA_DIR):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (info.st_mode & 0o170000) != 0o100000:  # S_ISREG, without following links
                continue
            # st_size is the size a copy would have: a sparse file counts at its full length.
            found[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
            if len(found) >= MAX_WALKED_FILES:
                return found
    return found


def describe(path, size):
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {"path": printable_path(path)[:MAX_PATH_CHARS], "size": size, "mime": mime}


def changed_files(before, after, limit):
    """The files created or changed between two snapshots (at most limit), and how many more there were."""
    changed = [describe(path, meta[0]) for path, meta in after.items() if before.get(path) != meta]
    return changed[:limit], max(len(changed) - limit, 0)


def disk_note():
    try:
        stats = os.statvfs(DATA_DIR)
    except OSError:
        return None
    total = stats.f_blocks * stats.f_frsize
    free = stats.f_bavail * stats.f_frsize
    if total and free < max(total // 100, 64 * 1024):
        return "The disk for /mnt/data is full (%s cap): delete files to free space." % human_bytes(total)
    return None
