"""Checks what the kernel sends back. The kernel runs the user's code, so anything on its control
pipe may be forged: a frame is accepted only if it is one well-formed, bounded JSON object that
answers the execution in progress, and is kept only for the fields the host expects."""

import base64
import binascii
import json
import re

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_TITLE = 200  # UTF-16 units of an image's title
# A table (a DataFrame or Series as the last value, table_value.py): its caps, as the host's
# runner-protocol.ts checks them again, and where its CSV may be (the runner's hidden folder only).
TABLE_ROWS = 50
TABLE_COLUMNS = 20
TABLE_TEXT = 200  # UTF-16 units of a cell, a header, a dtype
TABLE_KINDS = ("dataframe", "series")
TABLE_CSV_PATH = re.compile(r"\.codebot/tables/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.csv\Z")
# The longest table a well-behaved kernel sends as JSON: its texts (rows, headers, dtypes) at
# their caps, each UTF-16 unit up to 6 bytes of escapes, and the rest.
TABLE_FRAME_BYTES = (TABLE_ROWS + 2) * TABLE_COLUMNS * (6 * TABLE_TEXT + 4) + 4096


class FrameError(Exception):
    """The kernel broke the protocol: its session can't be trusted to answer the next cell right."""


def _text(value, limit, field):
    if not isinstance(value, str):
        raise FrameError("%s is not text" % field)
    if len(value) > limit:
        raise FrameError("%s is over its limit" % field)
    return value


def _count(value, field):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 1_000_000:
        raise FrameError("%s is not a count" % field)
    return value


def _images(value, limits):
    if not isinstance(value, list) or len(value) > limits["maxImages"]:
        raise FrameError("too many images")
    images, total = [], 0
    for item in value:
        if not isinstance(item, dict):
            raise FrameError("an image is not an object")
        data = _text(item.get("data"), (limits["maxImageBytes"] * 4) // 3 + 4, "an image")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise FrameError("an image is not base64")
        if not raw.startswith(PNG_MAGIC):
            raise FrameError("an image is not a PNG")
        total += len(raw)
        image = {"mime": "image/png", "data": data}
        if item.get("title") is not None:
            image["title"] = _text16(item["title"], MAX_TITLE, "an image's title")
        images.append(image)
    return images, total


def _texts(value, limit, field):
    return [_text16(text, TABLE_TEXT, field) for text in _list(value, limit, field)]


def _table(value):
    """A table as the host expects it: bounded, consistent (a text per column in each row), its
    CSV in the hidden folder; FrameError otherwise."""
    if not isinstance(value, dict) or value.get("kind") not in TABLE_KINDS:
        raise FrameError("the table is not a table")
    columns = _texts(value.get("columns"), TABLE_COLUMNS, "a table's column")
    dtypes = _texts(value.get("dtypes"), TABLE_COLUMNS, "a table's dtype")
    rows = [_texts(row, TABLE_COLUMNS, "a table's row") for row in _list(value.get("rows"), TABLE_ROWS, "a table's rows")]
    index_columns = _count(value.get("indexColumns"), "a table's index columns")
    if len(dtypes) != len(columns) or index_columns > len(columns) or any(len(row) != len(columns) for row in rows):
        raise FrameError("the table's rows, columns and dtypes don't match")
    table = {
        "kind": value["kind"], "columns": columns, "indexColumns": index_columns, "dtypes": dtypes, "rows": rows,
        "totalRows": _size(value.get("totalRows"), "a table's rows"), "totalColumns": _size(value.get("totalColumns"), "a table's columns"),
    }
    csv = value.get("csv")
    if csv is not None:
        if not isinstance(csv, dict) or not isinstance(csv.get("complete"), bool):
            raise FrameError("the table's CSV is not described")
        path = csv.get("path")
        if not isinstance(path, str) or not TABLE_CSV_PATH.match(path):
            raise FrameError("the table's CSV is outside the runner's folder")
        table["csv"] = {"path": path, "bytes": _size(csv.get("bytes"), "a table's CSV size"), "complete": csv["complete"]}
    return table


def parse_done(line, request_id, limits):
    """The kernel's answer to request_id, reduced to known, bounded fields; FrameError otherwise."""
    try:
        frame = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("the answer is not JSON")
    if not isinstance(frame, dict) or frame.get("op") != "done":
        raise FrameError("the answer is not a result")
    if frame.get("id") != request_id:
        raise FrameError("the answer is for another execution")
    result_limit = limits["maxResultBytes"] + 200
    answer = {"images": [], "droppedImages": 0, "oversizedImages": 0}
    if "result" in frame:
        answer["result"] = _text(frame["result"], result_limit, "the result")
    if "error" in frame:
        error = frame["error"]
        if not isinstance(error, dict):
            raise FrameError("the error is not an object")
        answer["error"] = {
            "name": _text(error.get("name"), 400, "the error's name"),
            "value": _text(error.get("value"), result_limit, "the error's message"),
            "traceback": _text(error.get("traceback"), result_limit, "the traceback"),
        }
    answer["images"], _ = _images(frame.get("images", []), limits)
    if frame.get("table") is not None:
        answer["table"] = _table(frame["table"])
    for key in ("droppedImages", "oversizedImages"):
        if key in frame:
            answer[key] = _count(frame[key], key)
    return answer


def max_frame_bytes(limits):
    """The longest line a well-behaved kernel can send with these limits (JSON escapes included)."""
    images = limits["maxImages"] * ((limits["maxImageBytes"] * 4) // 3 + 64 + 6 * MAX_TITLE + 16)
    return images + 3 * 6 * (limits["maxResultBytes"] + 200) + TABLE_FRAME_BYTES + 64 * 1024


# --- snapshots of the namespace (namespace_snapshot.py in the kernel) ---------------------------

MAX_LISTED = 200  # names per list of an answer
MAX_NAME = 200  # characters (UTF-16 units, as the host counts them) of a name or a reason
MAX_LARGEST = 5
MAX_SIZE = 1 << 53
# The longest answer a well-behaved kernel sends: two lists of 200 entries of two 200-character
# texts (each character up to 12 bytes as JSON escapes), and a few fields.
SNAPSHOT_FRAME_BYTES = 2 << 20


def _text16(value, limit, field):
    """Text of at most limit UTF-16 units: the host counts characters so."""
    if not isinstance(value, str):
        raise FrameError("%s is not text" % field)
    if len(value) > limit or len(value.encode("utf-16-le", "surrogatepass")) > 2 * limit:
        raise FrameError("%s is over its limit" % field)
    return value


def _size(value, field):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > MAX_SIZE:
        raise FrameError("%s is not a size" % field)
    return value


def _list(value, limit, field):
    if not isinstance(value, list) or len(value) > limit:
        raise FrameError("%s is not a list of at most %d" % (field, limit))
    return value


def _named(value, key, limit, field, check):
    entries = []
    for item in _list(value, limit, field):
        if not isinstance(item, dict):
            raise FrameError("an entry of %s is not an object" % field)
        entries.append({"name": _text16(item.get("name"), MAX_NAME, field), key: check(item.get(key), field)})
    return entries


def _namespace_frame(line, op, request_id):
    try:
        frame = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("the answer is not JSON")
    if not isinstance(frame, dict) or frame.get("op") != op:
        raise FrameError("the answer is not a %s" % op)
    if frame.get("id") != request_id:
        raise FrameError("the answer is for another request")
    if "error" in frame:
        return {"error": _text16(frame["error"], 2 * MAX_NAME, "the error")}, None
    return None, frame


def _more(frame, answer, key):
    if key in frame:
        answer[key] = _size(frame[key], key)


def parse_snapshot(line, request_id):
    """The kernel's answer to a snapshot: {saved, skipped, bytes, largest, tooLarge} (or {error}),
    each list bounded and each text clipped; FrameError otherwise."""
    failed, frame = _namespace_frame(line, "snapshot", request_id)
    if failed:
        return failed
    reason = lambda value, field: _text16(value, MAX_NAME, field)  # noqa: E731
    if not isinstance(frame.get("tooLarge"), bool):
        raise FrameError("tooLarge is not a boolean")
    answer = {
        "saved": [_text16(name, MAX_NAME, "a saved name") for name in _list(frame.get("saved"), MAX_LISTED, "saved")],
        "skipped": _named(frame.get("skipped"), "reason", MAX_LISTED, "skipped", reason),
        "bytes": _size(frame.get("bytes"), "bytes"),
        "largest": _named(frame.get("largest"), "bytes", MAX_LARGEST, "largest", _size),
        "tooLarge": frame["tooLarge"],
    }
    _more(frame, answer, "moreSaved")
    _more(frame, answer, "moreSkipped")
    return answer


def parse_restore(line, request_id):
    """The kernel's answer to a restore: {restored, failed} (or {error}), bounded; FrameError otherwise."""
    failed, frame = _namespace_frame(line, "restore", request_id)
    if failed:
        return failed
    reason = lambda value, field: _text16(value, MAX_NAME, field)  # noqa: E731
    answer = {
        "restored": [_text16(name, MAX_NAME, "a restored name") for name in _list(frame.get("restored"), MAX_LISTED, "restored")],
        "failed": _named(frame.get("failed"), "reason", MAX_LISTED, "failed", reason),
    }
    _more(frame, answer, "moreRestored")
    _more(frame, answer, "moreFailed")
    return answer
