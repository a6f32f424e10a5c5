"""PID 1 of a codebot sandbox: speaks the host protocol and keeps the Python session alive.

Protocol: one JSON object per line. The host writes requests to the container's stdin; the
supervisor answers on stdout, one line per request, in order. Diagnostics go to stderr as JSON
lines. Requests:
  {"id", "op": "ping"}                                   -> {"id", "op": "pong", "kernelPid"}
  {"id", "op": "exec", "code", "timeoutMs", "maxOutputBytes"} -> {"id", "op": "result", ...}
  {"id", "op": "files"}                                  -> {"id", "op": "files", "files": [...]}
  {"id", "op": "claim", "session"}                       -> {"id", "op": "claim", "granted"}
  {"op": "interrupt", "target"}  stops that execution (running or queued): its status is "cancelled"

A warm pool container is claimed for a session through "claim": requests are handled one at a
time, so exactly one claimant (of any host process) is granted it.

The session itself runs in kernel.py, a child process. As PID 1 the supervisor cannot be killed
from inside the container, so when the cell exhausts memory, hangs past its timeout or exits,
only the kernel dies: the supervisor reports what happened, starts a fresh kernel, and the files
in /mnt/data survive.
"""

import collections
import errno
import json
import mimetypes
import os
import select
import shutil
import signal
import sys
import time

DATA_DIR = "/mnt/data"
RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
INTERRUPT_GRACE_S = 2.0
MAX_LISTED_FILES = 2000
TAIL_BYTES = 4096
READ_CHUNK = 65536


def log(level, msg, **fields):
    fields.update(level=level, msg=msg, src="supervisor")
    os.write(2, (json.dumps(fields) + "\n").encode("utf-8"))


def send(message):
    data = (json.dumps(message) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def human_bytes(count):
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return ("%d %s" % (count, unit)) if unit == "bytes" else ("%.1f %s" % (count, unit))
        count /= 1024.0


class CappedBuffer:
    """Keeps the head and the tail of a stream, counting what was dropped between them."""

    def __init__(self, cap):
        self.head_cap = max(cap - min(TAIL_BYTES, cap // 4), 0)
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data):
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        overflow = len(self.tail) - self.tail_cap
        if overflow > 0:
            del self.tail[:overflow]
            self.dropped += overflow

    def text(self):
        head = self.head.decode("utf-8", "replace")
        if not self.dropped:
            return head + self.tail.decode("utf-8", "replace")
        note = "\n[... output truncated: %s not shown ...]\n" % human_bytes(self.dropped)
        return head + note + self.tail.decode("utf-8", "replace")


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


def snapshot_files():
    found = {}
    for root, dirs, names in os.walk(DATA_DIR):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            found[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
            if len(found) >= MAX_LISTED_FILES:
                return found
    return found


def describe(path, size):
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {"path": path, "size": size, "mime": mime}


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


class Supervisor:
    def __init__(self, idle_timeout_s):
        self.idle_timeout_s = idle_timeout_s
        self.kernel_pid = None
        self.kernel_status = None
        self.stdin_buffer = b""
        self.stdin_closed = False
        self.pending = collections.deque()
        self.interrupts = set()
        self.stop_reason = None
        self.claimed_by = None
        self.prepare_home()
        self.start_kernel()

    # --- kernel lifecycle -----------------------------------------------------------------

    def prepare_home(self):
        for path in ("/tmp/home", "/tmp/mpl"):
            os.makedirs(path, exist_ok=True)
        source = "/opt/codebot/mplconfig"
        for name in os.listdir(source) if os.path.isdir(source) else []:
            origin = os.path.join(source, name)
            if os.path.isfile(origin):
                shutil.copy(origin, os.path.join("/tmp/mpl", name))

    def start_kernel(self):
        ctrl_in_r, ctrl_in_w = os.pipe()
        ctrl_out_r, ctrl_out_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        env = {key: value for key, value in os.environ.items()}
        env["MPLCONFIGDIR"] = "/tmp/mpl"
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2),
            (os.POSIX_SPAWN_DUP2, ctrl_in_r, 3),
            (os.POSIX_SPAWN_DUP2, ctrl_out_w, 4),
        ]
        argv = [sys.executable, "-I", os.path.join(RUNNER_DIR, "kernel.py"), "3", "4"]
        self.kernel_pid = os.posix_spawn(sys.executable, argv, env, file_actions=actions)
        self.kernel_status = None
        for fd in (ctrl_in_r, ctrl_out_w, out_w, err_w):
            os.close(fd)
        self.ctrl_in, self.ctrl_out, self.out, self.err = ctrl_in_w, ctrl_out_r, out_r, err_r
        self.ctrl_buffer = b""
        ready = self.read_ctrl(deadline=time.monotonic() + 120, sinks=None)
        if ready is None or ready.get("op") != "ready":
            log("error", "kernel did not start", status=self.kernel_status)
            sys.exit(1)
        log("info", "kernel ready", kernelPid=self.kernel_pid)

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
            others = [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) not in (1, self.kernel_pid)]
            others = [pid for pid in others if pid != os.getpid()]
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

    def restart_kernel(self):
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

    def read_ctrl(self, deadline, sinks, request_id=None):
        """Wait for one control message from the kernel, draining its output into sinks.
        Returns None when the deadline passes, the request is interrupted or the kernel dies
        first; stop_reason then says which ("deadline", "interrupt", "died")."""
        self.stop_reason = None
        watched = [self.ctrl_out, self.out, self.err]
        if request_id is not None and not self.stdin_closed:
            watched.append(0)
        while b"\n" not in self.ctrl_buffer:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                self.stop_reason = "deadline"
                return None
            readable, _, _ = select.select(watched, [], [], min(timeout, 0.5))
            if self.out in readable or self.err in readable:
                self.drain(sinks)
            if 0 in readable:
                self.pump_stdin()
                if self.stdin_closed:
                    watched.remove(0)
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
            if not readable:
                self.reap()
        line, _, self.ctrl_buffer = self.ctrl_buffer.partition(b"\n")
        return json.loads(line)

    def drain(self, sinks, until_empty=False):
        for fd, index in ((self.out, 0), (self.err, 1)):
            while True:
                readable, _, _ = select.select([fd], [], [], 0)
                if not readable:
                    break
                chunk = os.read(fd, READ_CHUNK)
                if not chunk:
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
            if request.get("op") == "interrupt":
                self.interrupts.add(request.get("target"))
            else:
                self.pending.append(request)

    def next_request(self):
        while not self.pending:
            if self.stdin_closed:
                return None
            readable, _, _ = select.select([0], [], [], self.idle_timeout_s)
            if not readable:
                log("info", "idle timeout: exiting", idleSeconds=self.idle_timeout_s)
                return None
            self.pump_stdin()
        return self.pending.popleft()

    # --- requests ---------------------------------------------------------------------------

    def execute(self, request):
        started = time.monotonic()
        cap = int(request.get("maxOutputBytes", 1 << 20))
        sinks = (CappedBuffer(cap), CappedBuffer(cap))
        timeout_s = float(request.get("timeoutMs", 60000)) / 1000.0
        if request["id"] in self.interrupts:
            self.interrupts.discard(request["id"])
            return self.cancelled_before_start(request)
        before = snapshot_files()
        kills_before = oom_kills()
        os.write(self.ctrl_in, (json.dumps({"id": request["id"], "code": request["code"]}) + "\n").encode("utf-8"))
        answer = self.read_ctrl(started + timeout_s, sinks, request["id"])
        status = "ok"
        notes = []
        state_lost = False
        if answer is None and self.stop_reason in ("deadline", "interrupt"):
            status = "timeout" if self.stop_reason == "deadline" else "cancelled"
            what = "Execution timed out after %gs" % timeout_s if status == "timeout" else "Execution was cancelled"
            log("info", "interrupting the kernel", id=request["id"], reason=status)
            self.kill_strays()
            os.kill(self.kernel_pid, signal.SIGINT)
            answer = self.read_ctrl(time.monotonic() + INTERRUPT_GRACE_S, sinks)
            if answer is None:
                state_lost = True
                notes.append("%s and did not stop when interrupted: the Python session was restarted, "
                             "so its variables are lost (files in /mnt/data are kept)." % what)
            else:
                notes.append("%s and was interrupted; the session's variables are kept." % what)
        elif answer is None:
            state_lost = True
            self.wait_kernel_exit(1.0)
            kills_after = oom_kills()
            if kills_before is not None and kills_after is not None and kills_after > kills_before:
                status = "oom"
                notes.append("The code ran out of memory: the Python session was restarted, so its "
                             "variables are lost (files in /mnt/data are kept).")
            else:
                status = "killed"
                notes.append("The Python process ended (%s): the session was restarted, so its "
                             "variables are lost (files in /mnt/data are kept)." % self.describe_exit())
        self.drain(sinks, until_empty=True)
        self.kill_strays()
        if state_lost:
            self.restart_kernel()
        elif answer.get("error") and status == "ok":
            status = "error"
        after = snapshot_files()
        changed = [describe(path, meta[0]) for path, meta in after.items() if before.get(path) != meta]
        result = {
            "id": request["id"], "op": "result", "status": status,
            "stdout": sinks[0].text(), "stderr": sinks[1].text(),
            "files": changed, "images": (answer or {}).get("images", []),
            "durationMs": round((time.monotonic() - started) * 1000, 2),
            "stateLost": state_lost,
        }
        for key in ("result", "error"):
            if answer and key in answer:
                result[key] = answer[key]
        if answer and answer.get("droppedImages"):
            notes.append("%d more images were not returned (at most 10 per execution)." % answer["droppedImages"])
        if sinks[0].dropped or sinks[1].dropped:
            notes.append("Output was longer than %s per stream and was truncated." % human_bytes(cap))
        note = disk_note()
        if note:
            notes.append(note)
        result["notes"] = notes
        return result

    def cancelled_before_start(self, request):
        return {"id": request["id"], "op": "result", "status": "cancelled", "stdout": "", "stderr": "",
                "files": [], "images": [], "durationMs": 0, "stateLost": False,
                "notes": ["Execution was cancelled before it started."]}

    def describe_exit(self):
        status = self.kernel_status
        if status is None:
            return "unknown cause"
        if os.WIFSIGNALED(status):
            return "killed by signal %s" % signal.Signals(os.WTERMSIG(status)).name
        return "exit code %d" % os.WEXITSTATUS(status)

    def list_files(self, request):
        files = [describe(path, meta[0]) for path, meta in snapshot_files().items()]
        return {"id": request["id"], "op": "files", "files": files}

    def handle(self, request):
        op = request.get("op")
        if op == "exec":
            return self.execute(request)
        if op == "files":
            return self.list_files(request)
        if op == "claim":
            if self.claimed_by is None:
                self.claimed_by = request.get("session")
            return {"id": request.get("id"), "op": "claim", "granted": self.claimed_by == request.get("session")}
        if op == "ping":
            return {"id": request.get("id"), "op": "pong", "kernelPid": self.kernel_pid}
        return {"id": request.get("id"), "op": "error", "message": "unknown op %r" % op}

    def serve(self):
        while True:
            request = self.next_request()
            if request is None:
                return
            try:
                send(self.handle(request))
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    return
                log("error", "request failed", id=request.get("id"), error=repr(exc))
                send({"id": request.get("id"), "op": "error", "message": repr(exc)})


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    idle = float(sys.argv[sys.argv.index("--idle-timeout") + 1]) if "--idle-timeout" in sys.argv else 1800.0
    Supervisor(idle).serve()


if __name__ == "__main__":
    main()
