"""sql(), fetch() and sources(): each one call to the worker over the runner's private channel."""

import base64
import datetime
import decimal
import json
import os
import secrets
import threading

from codebot import link
from codebot.errors import DataSourceError, from_reply
from codebot.table_file import read_table

RESULTS_DIR = "/mnt/data/.codebot/sources"
MAX_STATEMENT_CHARS = 256 * 1024
MAX_PARAMS = 1000
MAX_PARAM_CHARS = 64 * 1024
MAX_PATH_CHARS = 2048
MAX_QUERY_KEYS = 100
MAX_BODY_BYTES = 1 << 20
_lock = threading.Lock()


class FetchedBytes(bytes):
    """The body of an HTTP response, as bytes, with its `status` and `content_type`."""

    status = 200
    content_type = ""


def _scalar(value, what):
    """A parameter as JSON can carry it: None, bool, int, float, text; dates, decimals and numpy
    scalars as their usual text or number."""
    if hasattr(value, "item") and callable(value.item) and type(value).__module__ == "numpy":
        value = value.item()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_PARAM_CHARS:
            raise ValueError("%s is longer than %d characters" % (what, MAX_PARAM_CHARS))
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError("%s must be None, a bool, a number, a string or a date, not %s" % (what, type(value).__name__))


def _source_name(source):
    if not isinstance(source, str) or not source:
        raise TypeError("the source is named by a string, as sources() lists it")
    return source


def _call(kind, fields):
    """Sends the call, waits for the worker's answer; returns (end, path of the result file)."""
    if link.call is None:
        raise DataSourceError("Data sources are only reachable from a codebot sandbox's session.", "not-allowed")
    if threading.current_thread() is not threading.main_thread():
        raise DataSourceError("Call data sources from the cell's own thread (calls run one at a time anyway).", "bad-request")
    with _lock:
        token = secrets.token_hex(12)
        os.makedirs(RESULTS_DIR, mode=0o700, exist_ok=True)
        path = os.path.join(RESULTS_DIR, token + ".data")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            # The supervisor (root, but without the power to override permissions) writes the answer
            # into this file: "others" may write it while the call runs, nobody may read it.
            os.fchmod(fd, 0o602)
        finally:
            os.close(fd)
        try:
            reply = link.call(dict({"op": "call", "call": token, "kind": kind}, **fields))
            if not isinstance(reply, dict) or "end" not in reply:
                raise from_reply(reply.get("error") if isinstance(reply, dict) else None)
            return reply["end"], path
        except BaseException:
            _remove(path)
            raise


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def sources():
    """The data sources usable in this thread: [{"name", "kind", "description", "tables"?}, ...]."""
    end, path = _call("sources", {})
    try:
        with open(path, "rb") as handle:
            listed = json.loads(handle.read().decode("utf-8") or "[]")
    finally:
        _remove(path)
    return listed


def sql(source, query, params=None, *, max_rows=None, allow_truncated=True):
    """Runs one read-only SELECT on a SQL source and returns it as a pandas DataFrame.

    params fill the statement's placeholders ($1, $2 on PostgreSQL; ? on MySQL/MariaDB): never
    format values into the SQL text. One statement per call. The result is cut at the source's
    max_rows (or yours, if smaller): then df.attrs["truncated"] is True and a note is printed; with
    allow_truncated=False, TooManyRows is raised instead.
    """
    _source_name(source)
    if not isinstance(query, str) or not query.strip():
        raise TypeError("the query is a non-empty string of SQL")
    if len(query) > MAX_STATEMENT_CHARS:
        raise ValueError("the query is longer than %d characters" % MAX_STATEMENT_CHARS)
    if params is None:
        values = []
    elif isinstance(params, (list, tuple)):
        values = [_scalar(value, "parameter %d" % (index + 1)) for index, value in enumerate(params)]
    else:
        raise TypeError("params is a list of values for the placeholders ($1... or ?)")
    if len(values) > MAX_PARAMS:
        raise ValueError("at most %d parameters" % MAX_PARAMS)
    if max_rows is not None and (not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1):
        raise ValueError("max_rows is a positive whole number")
    end, path = _call("sql", {"source": source, "statement": query, "params": values, "maxRows": max_rows,
                              "strict": not allow_truncated})
    try:
        frame = read_table(path, end.get("columns") or [])
    finally:
        _remove(path)
    frame.attrs["source"] = source
    frame.attrs["truncated"] = bool(end.get("truncated"))
    if end.get("truncated"):
        print("[codebot] %s: the result was cut at %s rows (%s); df.attrs[\"truncated\"] is True. "
              "Aggregate in SQL, or filter, to see everything." % (source, format(len(frame), ","), end.get("cutBy") or "max_rows"))
    return frame


def fetch(source, path, params=None, *, method="GET", body=None, content_type=None):
    """Requests path (relative to the HTTP source's base URL) and returns the response body as
    bytes (with .status and .content_type). params become the query string. Only GET, unless the
    source allows more; a body (bytes or str) needs such a method."""
    _source_name(source)
    if not isinstance(path, str) or len(path) > MAX_PATH_CHARS:
        raise TypeError("the path is a string of at most %d characters, relative to the source's base URL" % MAX_PATH_CHARS)
    query = {}
    for key, value in (params or {}).items():
        if not isinstance(key, str):
            raise TypeError("query parameter names are strings")
        query[key] = [_scalar(item, key) for item in value] if isinstance(value, (list, tuple)) else _scalar(value, key)
    if len(query) > MAX_QUERY_KEYS:
        raise ValueError("at most %d query parameters" % MAX_QUERY_KEYS)
    if not isinstance(method, str):
        raise TypeError("method is a string such as GET")
    fields = {"source": source, "path": path, "query": query, "method": method.upper()}
    if body is not None:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        if len(data) > MAX_BODY_BYTES:
            raise ValueError("a request body is at most %d bytes" % MAX_BODY_BYTES)
        fields["body"] = base64.b64encode(data).decode("ascii")
    if content_type is not None:
        fields["contentType"] = str(content_type)
    end, file = _call("fetch", fields)
    try:
        with open(file, "rb") as handle:
            data = FetchedBytes(handle.read())
    finally:
        _remove(file)
    data.status = end.get("status", 200)
    data.content_type = end.get("contentType") or ""
    return data
