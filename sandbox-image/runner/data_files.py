"""What is in /mnt/data: the files an execution created or changed, and whether the disk is full.

/mnt/data/.codebot is the runner's own (the namespace snapshot): it is never reported, listed or
counted as a change."""

import json
import mimetypes
import os

from capped_buffer import human_bytes

DATA_DIR = "/mnt/data"
MAX_WALKED_FILES = 5000
MAX_PATH_CHARS = 1024
HIDDEN_NAME = ".codebot"
MAX_CHANGES = 10000  # paths per list of an execution's changes


class Listing(dict):
    """Files by path; truncated when the walk stopped at MAX_WALKED_FILES."""

    truncated = False


def printable_path(path):
    """A path as text the host can use: undecodable bytes and control characters replaced."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch >= " " and ch != "\x7f" else "\ufffd" for ch in text)


def snapshot_files():
    """Regular files under /mnt/data (links and special files are never reported), by path."""
    found = Listing()
    for root, dirs, names in os.walk(DATA_DIR):
        if root == DATA_DIR:
            dirs[:] = [name for name in dirs if name != HIDDEN_NAME]
            names = [name for name in names if name != HIDDEN_NAME]
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
                found.truncated = True
                return found
    return found


def describe(path, size):
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {"path": printable_path(path)[:MAX_PATH_CHARS], "size": size, "mime": mime}


def changed_files(before, after, limit):
    """The files created or changed between two snapshots (at most limit), and how many more there were."""
    changed = [describe(path, meta[0]) for path, meta in after.items() if before.get(path) != meta]
    return changed[:limit], max(len(changed) - limit, 0)


def _utf16_length(text):
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def file_changes(before, after, budget_bytes):
    """What an execution wrote and deleted, as paths relative to /mnt/data, for the host's
    checkpoints: {written, deleted, complete}. Each list holds at most MAX_CHANGES paths and both
    together at most budget_bytes as JSON. complete is false when a walk stopped at
    MAX_WALKED_FILES, a list was cut, or a path can't be named exactly as text (undecodable
    bytes, control characters, too long): the host then copies everything."""
    changes = {"written": [], "deleted": [], "complete": not (getattr(before, "truncated", False) or getattr(after, "truncated", False))}
    used = 64

    def add(key, path):
        nonlocal used
        relative = os.path.relpath(path, DATA_DIR)
        text = printable_path(relative)
        if text != relative or _utf16_length(text) > MAX_PATH_CHARS:
            changes["complete"] = False
            return
        cost = len(json.dumps(text)) + 2
        if len(changes[key]) >= MAX_CHANGES or used + cost > budget_bytes:
            changes["complete"] = False
            return
        used += cost
        changes[key].append(text)

    for path, meta in after.items():
        if before.get(path) != meta:
            add("written", path)
    for path in before:
        if path not in after:
            add("deleted", path)
    return changes


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
