"""PID 1 of a codebot sandbox: speaks the host protocol and keeps the Python session alive.

Protocol: one JSON object per line. The host writes requests to the container's stdin; the
supervisor answers on stdout, one line per request, in order. Diagnostics go to stderr as JSON
lines. Requests:
  {"id", "op": "ping"}                                   -> {"id", "op": "pong", "kernelPid", "python"}
  {"id", "op": "exec", "code", "timeoutMs", "maxOutputBytes", "maxResultBytes"?, "maxImages"?,
   "maxImageBytes"?, "maxFiles"?}                        -> {"id", "op": "result", ...}
  {"id", "op": "files"}                                  -> {"id", "op": "files", "files": [...]}
  {"id", "op": "claim", "session"}                       -> {"id", "op": "claim", "granted"}
  {"id", "op": "snapshot", "maxBytes"}                   -> {"id", "op": "snapshot", "saved": [name],
       "skipped": [{"name", "reason"}], "bytes", "largest": [{"name", "bytes"}], "tooLarge",
       "moreSaved"?, "moreSkipped"?}
  {"id", "op": "restore"}                                -> {"id", "op": "restore", "restored": [name],
       "failed": [{"name", "reason"}], "moreRestored"?, "moreFailed"?}
  {"id", "op": "read", "path", "offset", "length", "maxBytes"?}
                                                         -> {"id", "op": "read", "size", "offset", "data" (base64),
                                                             "eof"} or {"id", "op": "read", "problem"}: a chunk
                                                             (at most 8 MiB) of a regular file of /mnt/data,
                                                             links never followed (data_read.py)
  {"id", "op": "tree", "start", "maxEntries"}            -> {"id", "op": "tree", "files": [{"path", "size",
                                                             "mtimeMs"}], "unnamed", "next"}: a page of the
                                                             listing of /mnt/data, sizes apparent (data_tree.py)
  {"id", "op": "stat", "paths"}                          -> {"id", "op": "stat", "files": [{"size", "mtimeMs"}
                                                             or null]}, one per path (at most 2000)
  {"id", "op": "readMany", "paths", "maxBytes", "maxFileBytes"}
                                                         -> {"id", "op": "readMany", "files": [{"size",
                                                             "mtimeMs", "data" (base64)} or null]}: small
                                                             files whole, in order, while they fit maxBytes
                                                             (at most 1 MiB) together
  {"id", "op": "write", "path", "offset", "size", "data" (base64), "mode"?, "dirMode"?, "mtimeMs"?}
                                                         -> {"id", "op": "write", "written", "done"} or {"id",
                                                             "op": "write", "problem"}: a chunk (at most 8 MiB)
                                                             of a file put into /mnt/data, in order, as uid 1000,
                                                             links never followed (data_write.py)
  {"op": "interrupt", "target"}  stops that execution (running or queued): its status is "cancelled"
A request that can't be done is answered {"id", "op": "error", "message"}.

Data-source calls (source_calls.py): while an execution runs, its code may call the worker
(`from codebot import sql, fetch, sources`). The supervisor forwards each call, tagged with the
running execution's id, and the host answers on stdin; these frames are handled at once, never queued:
  -> {"id": execId, "op": "call", "call", "request": {"kind": "sql", "source", "statement", "params",
      "maxRows"?, "strict"} | {"kind": "fetch", "source", "path", "method", "query", "body"?,
      "contentType"?} | {"kind": "sources"}}        a call of the running execution, checked and bounded
  -> {"id": execId, "op": "call-cancel", "call", "reason"}   stop sending (the session's disk is full)
  <- {"op": "call-data", "target": execId, "call", "by", "data" (base64)}   a chunk of the answer, written
      to /mnt/data/.codebot/sources/<call>.data (the file the session created for it)
  <- {"op": "call-end", "target", "call", "by", "end": {...}} or {"op": "call-error", "target", "call",
      "by", "error": {"code", "message"}}            the call's end, passed to the session as one line
  ("by" names the answering host process: were two attached to one execution, the first one's frames
  are kept and the other's dropped.)
One call runs at a time; a frame for another execution or call (one that ended) is dropped. A call
still running when its execution ends is dropped here; the host cancels it when the result reaches it.

"python" in a pong is the image's Python version (platform.python_version(), e.g. "3.13.5"): the
host names it in the model's system prompt, so the model is told the version it really runs on. The
host checks it against a strict pattern and ignores anything else.

An execution whose last value is a pandas DataFrame or Series also has "table" (table_value.py):
the first rows and columns as display text, the shape, and "csv", the whole data written to
/mnt/data/.codebot/tables/ for the host to read (and attach) with "read"; images of matplotlib
figures have their "title". Both are checked here (kernel_frames.py) and on the host again.

An execution's result also says what it changed in /mnt/data, for the host's checkpoints:
"changes": {"written": [path], "deleted": [path], "complete"}, paths relative to /mnt/data, at
most 10,000 each; complete is false when a list was cut or the walk stopped at its cap (the host
then copies everything). /mnt/data/.codebot, the runner's own, is never listed nor counted.

The host saves a thread's files as streams, never whole: "tree" and "stat" give sizes (apparent:
a sparse file at its full length) and mtimes, so it decides what fits its caps before a byte is
read; small files then come in bulk ("readMany", at most 1 MiB an answer), larger ones one by one
through the engine's archive API, each checked against its listed size at its header. Every
request names at most 2000 paths; every answer is bounded (a page of the tree at most 10,000 files
and 1 MiB), and the host checks each against what it asked and what it reads (data_tree.py).

Durable workspaces: "snapshot" has the kernel pickle the session's variables, one at a time, to
/mnt/data/.codebot/state.pkl (namespace_snapshot.py); what can't be pickled is skipped, and over
maxBytes nothing is written (tooLarge, with the largest variables). The host streams the file out
("stat", then the engine's archive API; the kernel removes it at the next execution)
and, in the thread's next sandbox, streams it in and asks "restore": the kernel loads each variable it can, lists those that fail, and deletes the
file. The file is the user's data, unpickled only in the kernel (uid 1000), like their own code;
its answers are checked like an execution's (kernel_frames.py). A kernel that dies, breaks the
protocol or takes over 120 s doing either is restarted (its variables are lost) and the request
answered with an error. A restore doesn't change freshSession (the first execution of this
sandbox still says it): the host, which asked for the restore, words it.

A warm pool container is claimed for a session through "claim": requests are handled one at a
time, so exactly one claimant (of any host process) is granted it.

The trust boundary: the supervisor runs as root with a handful of capabilities; the session runs
in kernel.py, a child process of uid 1000 with none (kernel_process.py), so the user's code can't
signal, trace or write for the supervisor. Everything the kernel sends back is checked
(kernel_frames.py); a kernel that breaks the protocol is replaced, never believed. Between
executions the kernel is stopped (SIGSTOP), so no thread of the user's runs while nobody asked.
When a cell exhausts memory, hangs past its timeout or exits, only the kernel dies: the supervisor
reports what happened, starts a fresh kernel, and the files in /mnt/data survive.
"""

import collections
import errno
import json
import os
import platform
import select
import signal
import sys
import time

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, RUNNER_DIR)  # -I leaves the script's folder off the path

from capped_buffer import CappedBuffer, human_bytes  # noqa: E402
from data_read import read_chunk  # noqa: E402
from data_tree import list_tree, read_many, stat_files  # noqa: E402
from data_write import write_chunk  # noqa: E402
from data_files import DATA_DIR, changed_files, describe, disk_note, file_changes, snapshot_files  # noqa: E402
from kernel_frames import SNAPSHOT_FRAME_BYTES, TABLE_COLUMNS, TABLE_ROWS, FrameError, max_frame_bytes, parse_done, parse_restore, parse_snapshot  # noqa: E402
from kernel_process import make_undumpable, spawn_kernel  # noqa: E402
from session_budget import SessionBudget, process_cpu_seconds  # noqa: E402
from source_calls import SourceCalls  # noqa: E402

PYTHON_VERSION = platform.python_version()
INTERRUPT_GRACE_S = 2.0
REMEMBERED_RESULTS = 16
REMEMBERED_BYTES = 16 << 20  # in all; a larger result is remembered without its images and long output
READ_CHUNK = 65536
MAX_REQUEST_BYTES = 64 << 20
READY_TIMEOUT_S = 120
EXEC_DEFAULTS = {"maxOutputBytes": (1 << 20, 1024, 64 << 20), "maxResultBytes": (65536, 256, 16 << 20),
                 "maxImages": (10, 0, 100), "maxImageBytes": (4 << 20, 1024, 64 << 20), "maxFiles": (100, 1, 5000)}
LOST = "the Python session was restarted and its variables are lost (files in /mnt/data are kept)"
NAMESPACE_TIMEOUT_S = 120  # for a snapshot or a restore of the session's variables
MAX_SNAPSHOT_BYTES = 1 << 50
MAX_CHANGES_BYTES = 8 << 20  # an execution's changes as JSON, at most
# A snapshot's or restore's answer, at most: within the 64 KB every host frame limit leaves over.
MAX_NAMESPACE_ANSWER_BYTES = 48 * 1024
NAMESPACE_LISTS = {"snapshot": (("saved", "moreSaved"), ("skipped", "moreSkipped")),
                   "restore": (("restored", "moreRestored"), ("failed", "moreFailed"))}


# What the host allows a table's texts and an image's title, in UTF-16 units (the kernel's are
# 200), as maxFrameBytes in src/sandbox/sandbox-limits.ts counts them.
HOST_TABLE_TEXT = 220
HOST_TABLE_BYTES = (TABLE_ROWS + 2) * TABLE_COLUMNS * (6 * HOST_TABLE_TEXT + 4) + 4096
HOST_TITLE_BYTES = 6 * 200 + 16


def host_frame_bytes(limits):
    """The longest line the host accepts for an execution with these limits (maxFrameBytes in
    src/sandbox/sandbox-limits.ts): the changes are cut to fit in it."""
    images = limits["maxImages"] * (-(-limits["maxImageBytes"] * 4 // 3) + 64 + HOST_TITLE_BYTES)
    return (2 * 6 * limits["maxOutputBytes"] + 3 * 6 * (limits["maxResultBytes"] + 200) + images + limits["maxFiles"] * 6 * 1200
            + HOST_TABLE_BYTES + 64 * 1024)


def log(level, msg, **fields):
    fields.update(level=level, msg=msg, src="supervisor")
    os.write(2, (json.dumps(fields) + "\n").encode("utf-8"))


def send(message):
    data = (json.dumps(message) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def oom_kills():
    """The cgroup's OOM-kill counter (cgroup v2 or v1), or None where it can't be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return None


def sandbox_memory_used():
    """Bytes in use in the whole sandbox by gVisor's account (its /proc/meminfo), or None."""
    try:
        with open("/proc/meminfo") as handle:
            fields = dict(line.split(":", 1) for line in handle)
        return (int(fields["MemTotal"].split()[0]) - int(fields["MemFree"].split()[0])) * 1024
    except (OSError, KeyError, ValueError):
        return None


def exec_limits(request):
    """The execution's limits from the request, each within its bounds."""
    limits = {}
    for key, (fallback, low, high) in EXEC_DEFAULTS.items():
        value = request.get(key, fallback)
        limits[key] = min(max(int(value), low), high) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback
    return limits


def fit_answer(answer, lists, budget):
    """Drops the last entries of the answer's lists (counting them as more) until it fits in budget
    bytes of JSON: names of 200 characters of escapes would not fit the host's smallest frames."""
    sizes = {key: [len(json.dumps(entry)) + 2 for entry in answer[key]] for key, _ in lists}
    total = len(json.dumps(answer)) + 64
    while total > budget:
        key, more = max(lists, key=lambda pair: sum(sizes[pair[0]]))
        if not sizes[key]:
            break
        total -= sizes[key].pop()
        answer[key].pop()
        answer[more] = answer.get(more, 0) + 1
        total += 16
    return answer


class Supervisor:
    def __init__(self, idle_timeout_s, budget, drop_privileges, gvisor_limits=None):
        self.idle_timeout_s = idle_timeout_s
        self.gvisor_limits = gvisor_limits
        self.budget = budget
        self.drop_privileges = drop_privileges
        self.kernel_pid = None
        self.kernel_status = None
        self.stdin_buffer = b""
        self.stdin_closed = False
        self.pending = collections.deque()
        self.interrupts = set()
        self.stop_reason = None
        self.violation = None
        self.claimed_by = None
        self.ending = None
        # Results of the last executions by id: a request for one that already ran (its worker
        # stopped and another took the turn over) gets that result again; the code never runs twice.
        self.results = collections.OrderedDict()
        self.executions = 0  # how many this session has run: the first one says the session is new
        self.source_calls = SourceCalls(send, log)
        self.start_kernel()
        self.budget.start()

    # --- kernel lifecycle -----------------------------------------------------------------

    def start_kernel(self):
        ctrl_in_r, ctrl_in_w = os.pipe()
        ctrl_out_r, ctrl_out_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        env = dict(os.environ, MPLCONFIGDIR="/tmp/mpl")
        max_processes = 0
        if self.gvisor_limits:
            env["CODEBOT_MEMORY_BYTES"] = str(self.gvisor_limits["memory"])
            max_processes = self.gvisor_limits["processes"]
        script = os.path.join(RUNNER_DIR, "kernel.py")
        self.kernel_pid = spawn_kernel(script, env, out_w, err_w, ctrl_in_r, ctrl_out_w, DATA_DIR, self.drop_privileges, max_processes)
        self.kernel_status = None
        for fd in (ctrl_in_r, ctrl_out_w, out_w, err_w):
            os.close(fd)
        self.ctrl_in, self.ctrl_out, self.out, self.err = ctrl_in_w, ctrl_out_r, out_r, err_r
        self.open_outputs = {out_r, err_r}
        self.ctrl_buffer = bytearray()
        line = self.read_ctrl(time.monotonic() + READY_TIMEOUT_S, None, max_bytes=4096)
        try:
            ready = json.loads(line) if line is not None else None
        except ValueError:
            ready = None
        if not isinstance(ready, dict) or ready.get("op") != "ready":
            log("error", "kernel did not start", status=self.kernel_status)
            sys.exit(1)
        self.freeze()
        log("info", "kernel ready", kernelPid=self.kernel_pid)

    def freeze(self):
        """Stops every thread of the session until the next execution."""
        try:
            os.kill(self.kernel_pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass

    def thaw(self):
        try:
            os.kill(self.kernel_pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def close_kernel_fds(self):
        for fd in (self.ctrl_in, self.ctrl_out, self.out, self.err):
            try:
                os.close(fd)
            except OSError:
                pass

    def reap(self):
        """Collect exited children (PID 1 adopts every orphan) and note the kernel's status."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.kernel_pid:
                self.kernel_status = status

    def kill_strays(self):
        """Kill every process but the supervisor and the kernel (a cell's leftovers, fork bombs)."""
        for _ in range(200):
            others = [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) not in (1, os.getpid(), self.kernel_pid)]
            if not others:
                break
            for pid in others:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)
            self.reap()
        self.reap()

    def wait_kernel_exit(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        self.reap()
        while self.kernel_status is None and time.monotonic() < deadline:
            time.sleep(0.01)
            self.reap()

    def kill_kernel_and_strays(self):
        try:
            os.kill(self.kernel_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.kill_strays()
        self.wait_kernel_exit(2.0)

    def restart_kernel(self):
        self.budget.kernel_ended(process_cpu_seconds(self.kernel_pid))
        if self.kernel_status is None:
            try:
                os.kill(self.kernel_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.close_kernel_fds()
        self.wait_kernel_exit(5.0)
        self.kill_strays()
        self.start_kernel()

    # --- io ---------------------------------------------------------------------------------

    def read_ctrl(self, deadline, sinks, request_id=None, max_bytes=None, budget=True):
        """Wait for one line on the kernel's control pipe, draining its output into sinks.
        Returns None when the deadline passes, the request is interrupted, the CPU budget runs
        out (budget), the kernel dies or breaks the protocol first; stop_reason then says which."""
        self.stop_reason = None
        complete = b"\n" in self.ctrl_buffer  # each chunk is searched once, as it comes
        next_check = 0.0
        while not complete:
            if max_bytes is not None and len(self.ctrl_buffer) > max_bytes:
                return self.protocol_violation("an answer longer than %s" % human_bytes(max_bytes))
            now = time.monotonic()
            timeout = deadline - now
            if timeout <= 0:
                self.stop_reason = "deadline"
                return None
            if now >= next_check:  # budgets are read from files: at most every 50 ms, not per chunk
                next_check = now + 0.05
                if request_id is not None and budget and self.budget.cpu_exhausted(self.kernel_pid):
                    self.stop_reason = "cpu"
                    return None
                if sinks is not None and self.over_memory():
                    self.stop_reason = "memory"
                    return None
            watched = [self.ctrl_out, *self.open_outputs]
            if request_id is not None and not self.stdin_closed:
                watched.append(0)
            readable, _, _ = select.select(watched, [], [], min(timeout, 0.05 if self.gvisor_limits else 0.5))
            if self.out in readable or self.err in readable:
                self.drain(sinks)
            if 0 in readable:
                self.pump_stdin()
                if request_id in self.interrupts:
                    self.interrupts.discard(request_id)
                    self.stop_reason = "interrupt"
                    return None
            if self.ctrl_out in readable:
                chunk = os.read(self.ctrl_out, READ_CHUNK)
                if not chunk:
                    self.drain(sinks)
                    self.reap()
                    self.stop_reason = "died"
                    return None
                self.ctrl_buffer += chunk
                complete = b"\n" in chunk
            if not readable:
                self.reap()
        line, _, rest = bytes(self.ctrl_buffer).partition(b"\n")
        self.ctrl_buffer = bytearray()
        if rest:
            return self.protocol_violation("more than one answer to one execution")
        return line

    def over_memory(self):
        """Under gVisor the engine's memory limit would end the whole sandbox, so the code's is
        watched here: all its processes together may use the configured memory, no more."""
        if not self.gvisor_limits or not self.gvisor_limits["memory"]:
            return False
        used = sandbox_memory_used()
        return used is not None and used > self.gvisor_limits["memory"]

    def protocol_violation(self, what):
        self.stop_reason = "protocol"
        self.violation = what
        return None

    def ctrl_dirty(self):
        """True when the kernel wrote to its control pipe after it answered (it is frozen now)."""
        readable, _, _ = select.select([self.ctrl_out], [], [], 0)
        return bool(readable) or bool(self.ctrl_buffer)

    def drain(self, sinks, until_empty=False):
        for fd, index in ((self.out, 0), (self.err, 1)):
            while fd in self.open_outputs:
                readable, _, _ = select.select([fd], [], [], 0)
                if not readable:
                    break
                chunk = os.read(fd, READ_CHUNK)
                if not chunk:
                    self.open_outputs.discard(fd)  # the code closed its stdout/stderr
                    break
                if sinks is not None:
                    sinks[index].add(chunk)
                if not until_empty:
                    break

    def pump_stdin(self):
        """Read what the host sent: interrupts take effect at once, other requests queue."""
        chunk = os.read(0, READ_CHUNK)
        if not chunk:
            self.stdin_closed = True
            return
        self.stdin_buffer += chunk
        while b"\n" in self.stdin_buffer:
            line, _, self.stdin_buffer = self.stdin_buffer.partition(b"\n")
            try:
                request = json.loads(line)
            except ValueError:
                log("warn", "ignored a malformed request line", bytes=len(line))
                continue
            if not isinstance(request, dict) or not isinstance(request.get("id", ""), str):
                log("warn", "ignored a request that is not an object with a text id")
            elif request.get("op") == "ping":
                # answered at once, even during an execution: it tells a host the session is alive
                send({"id": request.get("id"), "op": "pong", "kernelPid": self.kernel_pid, "python": PYTHON_VERSION})
            elif request.get("op") == "interrupt":
                self.interrupts.add(request.get("target"))
            elif request.get("op") in ("call-data", "call-end", "call-error"):
                self.source_calls.on_host(request)
            else:
                self.pending.append(request)
        if len(self.stdin_buffer) > MAX_REQUEST_BYTES:
            log("warn", "dropped an oversized request", bytes=len(self.stdin_buffer))
            self.stdin_buffer = b""

    def next_request(self):
        while not self.pending:
            if self.stdin_closed:
                return None
            remaining = self.budget.lifetime_end() - time.monotonic()
            if remaining <= 0:
                log("info", "maximum lifetime reached: exiting")
                return self.closing("lifetime")
            readable, _, _ = select.select([0], [], [], min(self.idle_timeout_s, remaining))
            if not readable:
                if remaining > self.idle_timeout_s:
                    log("info", "idle timeout: exiting", idleSeconds=self.idle_timeout_s)
                    return self.closing("idle")
                continue
            self.pump_stdin()
        return self.pending.popleft()

    def closing(self, reason):
        """Says the session ends with no request started: whatever a host sent and awaits now was
        never read, so it may run it in a fresh session."""
        send({"id": "*", "op": "closing", "reason": reason})
        return None

    # --- requests ---------------------------------------------------------------------------

    def execute(self, request):
        started = time.monotonic()
        if not isinstance(request.get("code"), str):
            return {"id": request["id"], "op": "error", "message": "exec needs code"}
        if request["id"] in self.interrupts:
            self.interrupts.discard(request["id"])
            return self.cancelled_before_start(request)
        limits = exec_limits(request)
        sinks = (CappedBuffer(limits["maxOutputBytes"]), CappedBuffer(limits["maxOutputBytes"]))
        timeout = request.get("timeoutMs", 60000)
        timeout_s = float(timeout) / 1000.0 if isinstance(timeout, (int, float)) and timeout > 0 else 60.0
        notes = []
        state_lost = False
        if self.ctrl_dirty():
            state_lost = True
            notes.append("The previous code wrote to the runner's private channel after it finished, so "
                         "before running this code %s." % LOST)
            self.restart_kernel()
        before = snapshot_files()
        kills_before = oom_kills()
        lifetime_end = self.budget.lifetime_end()
        message = dict(limits, id=request["id"], code=request["code"])
        self.thaw()
        os.write(self.ctrl_in, (json.dumps(message) + "\n").encode("utf-8"))
        line = self.read_calls(min(started + timeout_s, lifetime_end), sinks, request["id"], limits)
        answer = self.parse(line, request["id"], limits)
        if self.stop_reason == "deadline" and time.monotonic() >= lifetime_end:
            self.stop_reason = "lifetime"
        status = "ok"
        if answer is None and self.stop_reason in ("deadline", "interrupt", "cpu", "lifetime"):
            status = "cancelled" if self.stop_reason == "interrupt" else "timeout"
            what = {
                "deadline": "Execution timed out after %gs" % timeout_s,
                "interrupt": "Execution was cancelled",
                "cpu": "The session used up its CPU-time budget (%gs)" % self.budget.cpu_budget_s,
                "lifetime": "The session reached its maximum lifetime (%gs)" % self.budget.max_lifetime_s,
            }[self.stop_reason]
            if self.stop_reason in ("cpu", "lifetime"):
                self.ending = what
            log("info", "interrupting the kernel", id=request["id"], reason=self.stop_reason)
            self.kill_strays()
            os.kill(self.kernel_pid, signal.SIGINT)
            answer = self.parse(self.read_ctrl(time.monotonic() + INTERRUPT_GRACE_S, sinks, None, max_frame_bytes(limits)), request["id"], limits)
            if answer is None:
                state_lost = True
                notes.append("%s and did not stop when interrupted: %s." % (what, LOST))
            elif not self.ending:
                notes.append("%s and was interrupted; the session's variables are kept." % what)
        elif answer is None and self.stop_reason == "memory":
            status = "oom"
            state_lost = True
            log("info", "memory limit reached: ending the code's processes", id=request["id"])
            self.kill_kernel_and_strays()
            notes.append("The code ran out of memory: %s." % LOST)
        elif answer is None and self.stop_reason == "protocol":
            status = "killed"
            state_lost = True
            notes.append("The code tampered with the runner's private channel (%s), so %s." % (self.violation, LOST))
        elif answer is None:
            state_lost = True
            self.wait_kernel_exit(1.0)
            kills_after = oom_kills()
            if kills_before is not None and kills_after is not None and kills_after > kills_before:
                status = "oom"
                notes.append("The code ran out of memory: %s." % LOST)
            else:
                status = "killed"
                notes.append("The Python process ended (%s): %s." % (self.describe_exit(), LOST))
        self.source_calls.end_execution()
        self.drain(sinks, until_empty=True)
        self.kill_strays()
        if len(self.open_outputs) < 2 and not state_lost:
            state_lost = True
            notes.append("The code closed its standard output or error, so %s." % LOST)
        if self.ending:
            notes.append("%s: this session ends now and the next execution starts a fresh one "
                         "(variables and files are not kept)." % self.ending)
        elif state_lost:
            self.restart_kernel()
        else:
            self.freeze()
        if answer and answer.get("error") and status == "ok":
            status = "error"
        after = snapshot_files()
        changed, more = changed_files(before, after, limits["maxFiles"])
        result = {
            "id": request["id"], "op": "result", "status": status,
            "stdout": sinks[0].text(), "stderr": sinks[1].text(),
            "files": changed, "images": (answer or {}).get("images", []),
            "durationMs": round((time.monotonic() - started) * 1000, 2),
            "stateLost": state_lost or bool(self.ending),
        }
        for key in ("result", "error", "table"):
            if answer and key in answer:
                result[key] = answer[key]
        if answer and answer.get("droppedImages"):
            notes.append("%d more images were not returned (at most %d per execution)." % (answer["droppedImages"], limits["maxImages"]))
        if answer and answer.get("oversizedImages"):
            notes.append("%d images were over %s and were not returned." % (answer["oversizedImages"], human_bytes(limits["maxImageBytes"])))
        if more:
            notes.append("%d more files were created or changed (only the first %d are listed)." % (more, limits["maxFiles"]))
        if sinks[0].dropped or sinks[1].dropped:
            notes.append("Output was longer than %s per stream and was truncated." % human_bytes(limits["maxOutputBytes"]))
        note = disk_note()
        if note:
            notes.append(note)
        result["notes"] = notes
        room = host_frame_bytes(limits) - len(json.dumps(result)) - 16 * 1024
        result["changes"] = file_changes(before, after, max(min(room, MAX_CHANGES_BYTES), 0))
        return result

    def read_calls(self, deadline, sinks, request_id, limits):
        """The execution's answer line, passing on the data-source calls its code makes meanwhile."""
        line = self.read_ctrl(deadline, sinks, request_id, max_frame_bytes(limits))
        while line is not None and SourceCalls.is_call(line):
            problem = self.source_calls.start(line, request_id, self.ctrl_in)
            if problem:
                return self.protocol_violation(problem)
            line = self.read_ctrl(deadline, sinks, request_id, max_frame_bytes(limits))
        return line

    def parse(self, line, request_id, limits):
        if line is None:
            return None
        try:
            return parse_done(line, request_id, limits)
        except FrameError as error:
            self.protocol_violation(str(error))
            return None

    def cancelled_before_start(self, request):
        return {"id": request["id"], "op": "result", "status": "cancelled", "stdout": "", "stderr": "",
                "files": [], "images": [], "durationMs": 0, "stateLost": False,
                "notes": ["Execution was cancelled before it started."],
                "changes": {"written": [], "deleted": [], "complete": True}}

    def describe_exit(self):
        status = self.kernel_status
        if status is None:
            return "it closed the runner's channel"
        if os.WIFSIGNALED(status):
            return "killed by signal %s" % signal.Signals(os.WTERMSIG(status)).name
        return "exit code %d" % os.WEXITSTATUS(status)

    def list_files(self, request):
        files = [describe(path, meta[0]) for path, meta in snapshot_files().items()]
        return {"id": request["id"], "op": "files", "files": files}

    # --- the session's variables: snapshot and restore -------------------------------------

    def namespace_op(self, request):
        """Has the kernel save (snapshot) or load (restore) the session's variables."""
        op, request_id = request["op"], request.get("id", "")
        message = {"op": op, "id": request_id}
        doing = "saving" if op == "snapshot" else "restoring"
        if op == "snapshot":
            max_bytes = request.get("maxBytes")
            if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
                return {"id": request_id, "op": "error", "message": "snapshot needs maxBytes"}
            message["maxBytes"] = min(max_bytes, MAX_SNAPSHOT_BYTES)
        if self.ctrl_dirty():
            log("warn", "the kernel wrote to its channel after it answered: restarting it", id=request_id)
            self.restart_kernel()
            if op == "snapshot":
                return {"id": request_id, "op": "error",
                        "message": "The previous code wrote to the runner's private channel after it finished, so %s." % LOST}
        sinks = (CappedBuffer(4096), CappedBuffer(4096))  # what pickling prints is not shown to anyone
        started = time.monotonic()
        self.thaw()
        os.write(self.ctrl_in, (json.dumps(message) + "\n").encode("utf-8"))
        line = self.read_ctrl(started + NAMESPACE_TIMEOUT_S, sinks, request_id, SNAPSHOT_FRAME_BYTES, budget=False)
        answer = None
        if line is not None:
            try:
                answer = (parse_snapshot if op == "snapshot" else parse_restore)(line, request_id)
            except FrameError as error:
                self.protocol_violation(str(error))
        if answer is None:
            if self.stop_reason == "died":
                self.wait_kernel_exit(1.0)
            what = {
                "deadline": "%s the session's variables took longer than %ds" % (doing.capitalize(), NAMESPACE_TIMEOUT_S),
                "interrupt": "%s the session's variables was cancelled" % doing.capitalize(),
                "memory": "The session ran out of memory %s its variables" % doing,
                "protocol": "The code tampered with the runner's private channel (%s)" % self.violation,
            }.get(self.stop_reason) or "The Python process ended while %s the session's variables (%s)" % (doing, self.describe_exit())
            log("warn", "the kernel failed a namespace request: restarting it", id=request_id, op=op, reason=self.stop_reason)
            self.restart_kernel()
            return {"id": request_id, "op": "error", "message": "%s: %s." % (what, LOST)}
        self.drain(sinks, until_empty=True)
        self.kill_strays()
        if len(self.open_outputs) < 2:
            self.restart_kernel()
            if op == "restore":
                return {"id": request_id, "op": "error", "message": "The restored code closed its standard output or error, so %s." % LOST}
        else:
            self.freeze()
        log("info", "namespace request done", id=request_id, op=op, seconds=round(time.monotonic() - started, 3))
        if "error" in answer:
            return {"id": request_id, "op": "error", "message": "Could not %s the session's variables: %s" % ("save" if op == "snapshot" else "restore", answer["error"])}
        return fit_answer(dict(answer, id=request_id, op=op), NAMESPACE_LISTS[op], MAX_NAMESPACE_ANSWER_BYTES)

    def execute_once(self, request):
        known = self.results.get(request["id"])
        if known is not None:
            log("info", "execution already ran: answering with its result", id=request["id"])
            repeat = dict(known, notes=known["notes"] + ["This code had already run (the worker that started it stopped); "
                                                         "this is its result, and it was not run again."])
            return repeat
        result = self.execute(request)
        if result.get("op") == "result":
            result["freshSession"] = self.executions == 0
            self.executions += 1
            if result.get("status") != "cancelled":
                self.remember(request["id"], result)
        return result

    def remember(self, request_id, result):
        def size(item):
            changes = item.get("changes", {})
            return (len(item["stdout"]) + len(item["stderr"]) + sum(len(image["data"]) for image in item["images"]) + len(json.dumps(item.get("error", "")))
                    + len(json.dumps(item.get("table", "")))
                    + sum(len(path) + 4 for key in ("written", "deleted") for path in changes.get(key, ())))

        kept = result
        if size(kept) > REMEMBERED_BYTES // 4:
            # A repeat without the list of changes says it is incomplete: the host copies everything.
            kept = dict(result, stdout=result["stdout"][-65536:], stderr=result["stderr"][-65536:], images=[],
                        changes={"written": [], "deleted": [], "complete": False},
                        notes=result["notes"] + ["(Only the end of the output is kept for a repeat, and no images.)"])
        self.results[request_id] = kept
        while len(self.results) > REMEMBERED_RESULTS or sum(size(item) for item in self.results.values()) > REMEMBERED_BYTES:
            self.results.popitem(last=False)

    def handle(self, request):
        op = request.get("op")
        if op == "exec":
            return self.execute_once(request)
        if op == "files":
            return self.list_files(request)
        if op in ("snapshot", "restore"):
            return self.namespace_op(request)
        if op == "read":
            return read_chunk(request)
        if op == "tree":
            return list_tree(request)
        if op == "write":
            return write_chunk(request, self.drop_privileges)
        if op == "stat":
            return stat_files(request)
        if op == "readMany":
            return read_many(request)
        if op == "claim":
            if self.claimed_by is None:
                self.claimed_by = request.get("session")
            return {"id": request.get("id"), "op": "claim", "granted": self.claimed_by == request.get("session")}
        if op == "ping":
            return {"id": request.get("id"), "op": "pong", "kernelPid": self.kernel_pid, "python": PYTHON_VERSION}
        return {"id": request.get("id"), "op": "error", "message": "unknown op"}

    def serve(self):
        while not self.ending:
            request = self.next_request()
            if request is None:
                return
            try:
                send(self.handle(request))
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    return
                log("error", "request failed", id=request.get("id"), error=repr(exc))
                send({"id": request.get("id"), "op": "error", "message": "the sandbox's runner failed"})
        log("info", "session ends", reason=self.ending)
        self.closing("limit")  # requests queued behind the last one were never started


def option(name, fallback):
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else fallback


def widen_stdout():
    """A larger pipe to the engine: a big answer (a file being read) crosses in fewer wake-ups."""
    try:
        import fcntl

        fcntl.fcntl(1, 1031, 1 << 20)  # F_SETPIPE_SZ
    except (OSError, ValueError):
        pass  # not a pipe, or not allowed: the default size works, only slower


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    widen_stdout()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    make_undumpable()
    drop = os.getuid() == 0
    if not drop:
        log("warn", "not started as root: the session runs as the supervisor's own user, without the uid boundary")
    budget = SessionBudget(option("--cpu-budget", 0.0), option("--max-lifetime", 0.0))
    gvisor = None
    if "--gvisor" in sys.argv:
        gvisor = {"memory": int(option("--memory-bytes", 0)), "processes": int(option("--max-processes", 0))}
    Supervisor(option("--idle-timeout", 1800.0), budget, drop, gvisor).serve()


if __name__ == "__main__":
    main()
