"""Data-source calls of the running execution (codebot.sql, fetch, sources in the session).

The session's code asks on the kernel's control pipe; the supervisor checks the frame, opens the
file the answer goes to and passes the call on to the host, tagged with the execution it belongs
to (the host answers only calls of an execution it is running). The host streams the answer back
on stdin in bounded chunks, which are written straight into the file (the kernel never buffers
them), then ends the call; the kernel gets one short line on its control pipe. The kernel runs the
user's code, so everything it sends is checked here (and again on the host); the host is trusted.

The answer's file: the kernel creates /mnt/data/.codebot/sources/<call>.data, empty, mode 0602,
before it asks. The supervisor is root without the power to override file permissions: it can
write the file through its "others" bits, and opens it component by component without following
links, as a regular, empty, single-link file of the sandbox user, so nothing else can be written.
"""

import base64
import binascii
import json
import os
import re
import select
import stat
import time

from data_files import DATA_DIR
from data_read import _open_no_link

CALL_PREFIX = b'{"op": "call", '
CALL_TOKEN = re.compile(r"[0-9a-f]{24}\Z")
KINDS = ("sql", "fetch", "sources")
SANDBOX_UID = 1000
# Bounds of a call frame and of its fields (the codebot package's own, with room; the host's too).
MAX_CALL_FRAME_BYTES = 4 << 20
MAX_SOURCE_CHARS = 128
MAX_STATEMENT_CHARS = 256 * 1024
MAX_PARAMS = 1000
MAX_PARAM_CHARS = 64 * 1024
MAX_PATH_CHARS = 2048
MAX_QUERY_KEYS = 100
MAX_QUERY_VALUES = 100
MAX_BODY_CHARS = ((1 << 20) + 2) // 3 * 4
MAX_TEXT_CHARS = 200
# How long the kernel may take to read an answer line before it is held to have broken the protocol.
KERNEL_READ_TIMEOUT_S = 5.0
PIPE_CHUNK = 4096  # at most what a writable pipe takes without blocking


class CallRefused(Exception):
    """A call frame the kernel should not have sent: answered with an error, the session kept."""


def _scalar(value, field):
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1 << 63:
            raise CallRefused("%s is too large a number" % field)
        return value
    if isinstance(value, str) and len(value) <= MAX_PARAM_CHARS:
        return value
    raise CallRefused("%s is not a short value" % field)


def _text(value, limit, field, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise CallRefused("%s is not a text of at most %d characters" % (field, limit))
    return value


def _request(frame):
    """The call's fields the host expects, each bounded; CallRefused otherwise."""
    kind = frame.get("kind")
    if kind not in KINDS:
        raise CallRefused("an unknown kind of call")
    request = {"kind": kind}
    if kind == "sources":
        return request
    request["source"] = _text(frame.get("source"), MAX_SOURCE_CHARS, "the source")
    if kind == "sql":
        request["statement"] = _text(frame.get("statement"), MAX_STATEMENT_CHARS, "the statement")
        params = frame.get("params") or []
        if not isinstance(params, list) or len(params) > MAX_PARAMS:
            raise CallRefused("params is not a list of at most %d values" % MAX_PARAMS)
        request["params"] = [_scalar(value, "a parameter") for value in params]
        max_rows = frame.get("maxRows")
        if max_rows is not None:
            if not isinstance(max_rows, int) or isinstance(max_rows, bool) or not 1 <= max_rows <= 1 << 40:
                raise CallRefused("maxRows is not a positive count")
            request["maxRows"] = max_rows
        request["strict"] = frame.get("strict") is True
        return request
    request["path"] = _text(frame.get("path"), MAX_PATH_CHARS, "the path")
    request["method"] = _text(frame.get("method") or "GET", 16, "the method")
    query = frame.get("query") or {}
    if not isinstance(query, dict) or len(query) > MAX_QUERY_KEYS:
        raise CallRefused("the query is not a map of at most %d parameters" % MAX_QUERY_KEYS)
    request["query"] = {}
    for key, value in query.items():
        _text(key, MAX_TEXT_CHARS, "a query parameter's name")
        if isinstance(value, list):
            if len(value) > MAX_QUERY_VALUES:
                raise CallRefused("a query parameter has too many values")
            value = [_scalar(item, "a query value") for item in value]
        else:
            value = _scalar(value, "a query value")
        request["query"][key] = value
    body = _text(frame.get("body"), MAX_BODY_CHARS, "the body", required=False)
    if body is not None:
        request["body"] = body
    content_type = _text(frame.get("contentType"), MAX_TEXT_CHARS, "the content type", required=False)
    if content_type is not None:
        request["contentType"] = content_type
    return request


def _open_sink(token):
    """The answer's file, opened for writing as described above; OSError if it isn't that file."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_DIRECTORY
    folder = os.open(DATA_DIR, flags)
    try:
        for part in (".codebot", "sources"):
            inner = _open_no_link(part, flags, folder)
            os.close(folder)
            folder = inner
        fd = _open_no_link(token + ".data", os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, folder)
    finally:
        os.close(folder)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != SANDBOX_UID or info.st_nlink != 1 or info.st_size != 0:
        os.close(fd)
        raise OSError("not the session's empty answer file")
    return fd


class SourceCalls:
    """The one call in flight of the running execution, if any (the codebot package makes them one
    at a time)."""

    def __init__(self, send, log):
        self.send = send
        self.log = log
        self.current = None  # {"exec", "call", "fd", "bytes"}

    @staticmethod
    def is_call(line):
        return line.startswith(CALL_PREFIX)

    def start(self, line, exec_id, kernel_in):
        """Passes a call the kernel made on to the host. Returns a protocol violation (text) when
        the frame can't be a call of a well-behaved kernel, else None (a refused call is answered)."""
        if len(line) > MAX_CALL_FRAME_BYTES:
            return "a data-source call longer than %d bytes" % MAX_CALL_FRAME_BYTES
        try:
            frame = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return "a data-source call that is not JSON"
        if not isinstance(frame, dict) or not isinstance(frame.get("call"), str) or not CALL_TOKEN.match(frame["call"]):
            return "a data-source call without a call id"
        if self.current is not None:
            return "a data-source call while another one was running"
        token = frame["call"]
        try:
            request = _request(frame)
        except CallRefused as refused:
            self.answer_kernel(kernel_in, token, {"error": {"code": "bad-request", "message": "The call was refused: %s." % refused}})
            return None
        try:
            fd = _open_sink(token)
        except OSError as error:
            self.log("warn", "could not open a call's answer file", error=type(error).__name__)
            self.answer_kernel(kernel_in, token, {"error": {"code": "bad-request", "message": "The call's answer file could not be opened (was /mnt/data/.codebot changed?)."}})
            return None
        self.current = {"exec": exec_id, "call": token, "fd": fd, "bytes": 0, "kernel_in": kernel_in, "failed": None}
        self.send({"id": exec_id, "op": "call", "call": token, "request": request})
        return None

    def on_host(self, frame):
        """A frame of the host for a call: data, its end or its error. Frames for another
        execution or call (one that ended, another process's) are dropped."""
        current = self.current
        if current is None or frame.get("target") != current["exec"] or frame.get("call") != current["call"]:
            return
        # Two host processes attached to one execution (a takeover) both answer: the first one wins.
        current.setdefault("by", frame.get("by"))
        if frame.get("by") != current["by"]:
            return
        op = frame.get("op")
        if op == "call-data":
            self.write(current, frame.get("data"))
            return
        if op not in ("call-end", "call-error"):
            return
        self.close_file(current)
        self.current = None
        if current["failed"]:
            answer = {"error": current["failed"]}
        elif op == "call-end":
            answer = {"end": frame.get("end") if isinstance(frame.get("end"), dict) else {}}
        else:
            answer = {"error": frame.get("error") if isinstance(frame.get("error"), dict) else {"code": "failed", "message": "The call failed."}}
        self.answer_kernel(current["kernel_in"], current["call"], answer)

    def write(self, current, data):
        if current["failed"] or not isinstance(data, str):
            return
        try:
            chunk = base64.b64decode(data, validate=True)
            view = memoryview(chunk)
            while view:
                view = view[os.write(current["fd"], view):]
            current["bytes"] += len(chunk)
        except (binascii.Error, ValueError):
            current["failed"] = {"code": "failed", "message": "The worker sent a malformed chunk."}
        except OSError as error:
            # A full disk (the session's /mnt/data cap): the host stops sending; the cell is told.
            current["failed"] = {"code": "too-large", "message": "The answer did not fit in the session's disk (%d bytes written): %s." % (current["bytes"], os.strerror(error.errno or 0))}
            self.send({"id": current["exec"], "op": "call-cancel", "call": current["call"], "reason": "disk-full"})

    def answer_kernel(self, kernel_in, token, answer):
        """One line to the kernel, which is waiting for it. A kernel that doesn't read it within
        KERNEL_READ_TIMEOUT_S gets no more of it: it is left to its execution's timeout."""
        data = (json.dumps(dict(answer, op="call-reply", call=token)) + "\n").encode("utf-8")
        view = memoryview(data)
        deadline = time.monotonic() + KERNEL_READ_TIMEOUT_S
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.log("warn", "the session did not read its data-source answer", call=token)
                return
            _, writable, _ = select.select([], [kernel_in], [], remaining)
            if writable:
                view = view[os.write(kernel_in, view[:PIPE_CHUNK]):]

    def close_file(self, current):
        try:
            os.close(current["fd"])
        except OSError:
            pass

    def end_execution(self):
        """The execution ended (answered, interrupted, or its kernel gone): a call still in flight
        is dropped here; the host stops it when the execution's result reaches it."""
        if self.current is not None:
            self.close_file(self.current)
            self.current = None
