"""The Python session of one codebot sandbox.

Started by supervisor.py. Holds the user's variables between cells. It reads one JSON request
per line from the control pipe (fd given on the command line) and answers one JSON line per
request on the other. Its stdout and stderr are pipes the supervisor drains, so output written by
the cell, by C extensions and by subprocesses is captured alike.
"""

import ast
import base64
import builtins
import io
import json
import linecache
import os
import signal
import sys
import traceback
import types

KERNEL_PID = os.getpid()
# Defaults; each execution request carries the host's limits (SANDBOX_MAX_* settings).
DEFAULT_LIMITS = {"maxResultBytes": 65536, "maxImages": 10, "maxImageBytes": 4 << 20}
MPL_CACHE = "/opt/codebot/mplconfig"
RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
MAX_REASON_CHARS = 200
STATE_FILE = "/mnt/data/.codebot/state.pkl"  # namespace_snapshot.STATE_FILE, removed without importing it
MAX_TITLE_CHARS = 200  # of a figure's title, sent with its image (UTF-16 units, as the host counts)
# Fallbacks for the glyphs DejaVu Sans lacks: Noto Sans CJK (its JP face has the Han, kana and
# Hangul of Chinese, Japanese and Korean titles and labels), from the image's fonts-noto-cjk.
CJK_FAMILIES = ["Noto Sans CJK JP"]


def _clip(text, limit):
    """Keeps the start and the end of a long text, saying how much was cut."""
    if len(text) <= limit:
        return text
    head = max(limit * 3 // 4, 0)
    tail = max(limit - head, 0)
    return "%s\n[... %d characters cut ...]\n%s" % (text[:head], len(text) - head - tail, text[len(text) - tail:] if tail else "")


def _cap_memory():
    """Under gVisor: the code may allocate up to CODEBOT_MEMORY_BYTES beyond the warm session's
    address space, then gets a MemoryError (the engine's limit would end the whole sandbox)."""
    limit = int(os.environ.pop("CODEBOT_MEMORY_BYTES", "0") or 0)
    if not limit:
        return
    import resource

    with open("/proc/self/status") as handle:
        size = next((int(line.split()[1]) * 1024 for line in handle if line.startswith("VmSize:")), 0)
    resource.setrlimit(resource.RLIMIT_AS, (size + limit, size + limit))


def _prepare_home():
    # The session's own home and matplotlib cache, on the writable /tmp (the root is read-only).
    for path in ("/tmp/home", "/tmp/mpl"):
        os.makedirs(path, exist_ok=True)
    if os.path.isdir(MPL_CACHE):
        for name in os.listdir(MPL_CACHE):
            origin = os.path.join(MPL_CACHE, name)
            if os.path.isfile(origin):
                with open(origin, "rb") as source, open(os.path.join("/tmp/mpl", name), "wb") as target:
                    target.write(source.read())


def _raise_oom_score():
    # Make this process, not the supervisor, the one the kernel's OOM killer picks.
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


class Kernel:
    def __init__(self, ctrl_in, ctrl_out):
        self.ctrl_in = os.fdopen(ctrl_in, "r", encoding="utf-8")
        self.ctrl_out = ctrl_out
        # The user's variables are the __dict__ of a module that is __main__, as in IPython: what
        # pickle and dill save by name as __main__.X (classes and functions of the session) is
        # found again, in the session and in a snapshot restored in the thread's next sandbox.
        self.main = types.ModuleType("__main__")
        self.main.__builtins__ = builtins
        sys.modules["__main__"] = self.main
        self.namespace = self.main.__dict__
        self.snapshots = None
        self.cell = 0
        self.running = False
        self.images = []
        self.dropped_images = 0
        self.oversized_images = 0
        self.limits = dict(DEFAULT_LIMITS)
        self.plt = None
        self.tables = _runner_module("table_value")
        os.register_at_fork(after_in_child=self._close_control)
        signal.signal(signal.SIGINT, self._on_interrupt)
        builtins.display = self._display
        _link_data_sources(self._host_call)

    def _close_control(self):
        for fd in (self.ctrl_in.fileno(), self.ctrl_out):
            try:
                os.close(fd)
            except OSError:
                pass

    def _on_interrupt(self, signum, frame):
        if self.running:
            raise KeyboardInterrupt

    def _display(self, *values):
        for value in values:
            if not self._capture_image(value):
                print(value if isinstance(value, str) else repr(value))

    def warm_up(self):
        """Import the data stack once, so the user's first cell doesn't pay for it."""
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        _fall_back_to_cjk(matplotlib)

        self.plt = plt
        original_show = plt.show

        def show(*args, **kwargs):
            self._capture_figures()

        show.__doc__ = original_show.__doc__
        plt.show = show

    # --- images -------------------------------------------------------------------------

    def _add_png(self, data, title=None):
        if len(data) > self.limits["maxImageBytes"]:
            self.oversized_images += 1
            return
        if len(self.images) >= self.limits["maxImages"]:
            self.dropped_images += 1
            return
        image = {"mime": "image/png", "data": base64.b64encode(data).decode("ascii")}
        if title:
            image["title"] = title
        self.images.append(image)

    def _figure_title(self, figure):
        """The figure's suptitle, else its first axes' title, as one clipped line (the answer names
        the image after it), or None. The figure is the user's: whatever it does, no title."""
        try:
            suptitle = getattr(figure, "_suptitle", None)
            text = suptitle.get_text() if suptitle is not None else ""
            if not text and figure.axes:
                axes = figure.axes[0]
                text = axes.get_title() or axes.get_title(loc="left") or axes.get_title(loc="right")
            if not isinstance(text, str):
                return None
            return self.tables.clip16(" ".join(text.split()), MAX_TITLE_CHARS) or None
        except Exception:
            return None

    def _capture_figures(self):
        if self.plt is None:
            return
        for number in self.plt.get_fignums():
            figure = self.plt.figure(number)
            if figure.axes or figure.images or figure.texts:
                buffer = io.BytesIO()
                figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
                self._add_png(buffer.getvalue(), self._figure_title(figure))
        self.plt.close("all")

    def _capture_image(self, value):
        module = type(value).__module__ or ""
        if module.startswith("matplotlib") and hasattr(value, "savefig"):
            buffer = io.BytesIO()
            value.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            self._add_png(buffer.getvalue(), self._figure_title(value))
            if self.plt is not None:
                self.plt.close(value)
            return True
        if module.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "mode"):
            buffer = io.BytesIO()
            value.save(buffer, format="PNG")
            self._add_png(buffer.getvalue())
            return True
        return False

    # --- execution ----------------------------------------------------------------------

    def _compile(self, code, filename):
        tree = ast.parse(code, filename=filename, mode="exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = compile(tree, filename, "exec")
        return body, (compile(last, filename, "eval") if last is not None else None)

    def _format_error(self, exc):
        report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        # Drop the kernel's own frames: the user sees only their code and the libraries it called.
        report.stack = traceback.StackSummary.from_list(
            [frame for frame in report.stack if frame.filename != __file__])
        limit = self.limits["maxResultBytes"]
        try:
            value = str(exc)
        except Exception:  # a broken __str__ is the user's too
            value = "<unprintable %s>" % type(exc).__name__
        return {"name": _clip(type(exc).__name__, 200), "value": _clip(value, limit // 4), "traceback": _clip("".join(report.format()), limit)}

    def _reap_children(self):
        # Children the previous cell forked were killed by the supervisor; collect them so they
        # don't linger as zombies and count against the process limit.
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def execute(self, request):
        self._reap_children()
        try:
            os.unlink(STATE_FILE)  # a snapshot the host has downloaded by now: its space is the user's again
            os.rmdir(os.path.dirname(STATE_FILE))
        except OSError:
            pass
        self.cell += 1
        filename = "<cell-%d>" % self.cell
        linecache.cache[filename] = (len(request["code"]), None, request["code"].splitlines(True), filename)
        self.images = []
        self.dropped_images = 0
        self.oversized_images = 0
        self.limits = {key: int(request.get(key, fallback)) for key, fallback in DEFAULT_LIMITS.items()}
        answer = {"op": "done", "id": request["id"]}
        self.running = True
        try:
            body, last = self._compile(request["code"], filename)
            exec(body, self.namespace)
            if last is not None:
                value = eval(last, self.namespace)
                if value is not None and not self._capture_image(value):
                    self.namespace["_"] = value
                    answer["result"] = _clip(repr(value), self.limits["maxResultBytes"])
                    table = self._table(value)
                    if table:
                        answer["table"] = table
        except BaseException as exc:  # the user's exception is data, not a crash
            answer["error"] = self._format_error(exc)
        finally:
            self.running = False
            if os.getpid() != KERNEL_PID:
                # A child the cell forked must never return into the kernel's loop.
                os._exit(0)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            self._capture_figures()
        except Exception as exc:
            answer.setdefault("error", self._format_error(exc))
        answer["images"] = self.images
        if self.dropped_images:
            answer["droppedImages"] = self.dropped_images
        if self.oversized_images:
            answer["oversizedImages"] = self.oversized_images
        return answer

    def _table(self, value):
        """The value as a table when it is a DataFrame or Series (table_value.py), else None.
        Rendering it never fails the cell: any exception (a cell's __str__ raising, a broken
        subclass) is no table. An interrupt (the timeout) still stops the cell."""
        try:
            return self.tables.table_value(value, self.cell)
        except KeyboardInterrupt:
            raise
        except BaseException:
            return None

    # --- snapshots of the namespace ------------------------------------------------------

    def _snapshot_op(self, request, work):
        """Runs a snapshot or a restore; the user's own code may run in it (__reduce__, __setstate__)."""
        self._reap_children()
        answer = {"op": request["op"], "id": request["id"]}
        try:
            if self.snapshots is None:
                self.snapshots = _namespace_snapshot().NamespaceSnapshot(self.main)
            answer.update(work(self.snapshots))
        except BaseException as exc:  # the whole operation failed (the disk is full, say)
            try:
                message = "%s: %s" % (type(exc).__name__, exc)
            except Exception:
                message = type(exc).__name__
            answer = {"op": request["op"], "id": request["id"], "error": message[:MAX_REASON_CHARS]}
        finally:
            if os.getpid() != KERNEL_PID:
                os._exit(0)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        return answer

    def snapshot(self, request):
        max_bytes = request.get("maxBytes")
        return self._snapshot_op(request, lambda snapshots: snapshots.snapshot(max_bytes))

    def restore(self, request):
        return self._snapshot_op(request, lambda snapshots: snapshots.restore())

    def _host_call(self, frame):
        """One data-source call of the running cell (codebot.link): the frame to the supervisor,
        then the worker's answer, which the supervisor writes on the control pipe."""
        if not self.running or os.getpid() != KERNEL_PID:
            raise RuntimeError("data sources are called while a cell runs, from the session's own process")
        self._send(frame)
        while True:
            line = self.ctrl_in.readline()
            if not line:
                raise EOFError("the runner's channel closed")
            reply = json.loads(line)
            if reply.get("op") == "call-reply" and reply.get("call") == frame["call"]:
                return reply

    def serve(self):
        self._send({"op": "ready", "pid": KERNEL_PID})
        for line in self.ctrl_in:
            request = json.loads(line)
            op = request.get("op", "exec")
            if op == "call-reply":
                continue  # the answer to a call its cell stopped waiting for (it was interrupted)
            if op == "snapshot":
                self._send(self.snapshot(request))
            elif op == "restore":
                self._send(self.restore(request))
            else:
                self._send(self.execute(request))

    def _send(self, message):
        data = (json.dumps(message) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self.ctrl_out, view)
            view = view[written:]


def _runner_module(name):
    """A module of the runner's folder, which is not on the session's import path, loaded once
    (as _codebot_<name>, so the user's own modules of that name are never shadowed)."""
    module = sys.modules.get("_codebot_" + name)
    if module is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("_codebot_" + name, os.path.join(RUNNER_DIR, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


def _link_data_sources(call):
    """Lets the image's codebot package (from codebot import sql, fetch, sources) reach the worker
    through this kernel's control pipe. Without the package (an older image), nothing to link."""
    try:
        from codebot import link
    except ImportError:
        return
    link.install(call)


def _namespace_snapshot():
    """The snapshot code, loaded on first use (it imports dill)."""
    return _runner_module("namespace_snapshot")


def _fall_back_to_cjk(matplotlib):
    """Chinese, Japanese and Korean text in charts is drawn, not left as boxes with "Glyph missing"
    warnings: matplotlib (3.6 and later) looks each glyph up along the font.family list, so the CJK
    font follows the default sans-serif there. A generic family resolves to one font only, and the
    user's code often resets the list (seaborn's set_theme, rcdefaults), so the font manager also
    adds the CJK font to any lookup that lacks it. Any failure leaves matplotlib as it was."""
    try:
        from matplotlib import font_manager

        matplotlib.rcParams["font.family"] = ["sans-serif", *CJK_FAMILIES]
        manager = font_manager.fontManager
        find = manager._find_fonts_by_props

        def find_with_cjk(prop, fontext="ttf", directory=None, *args, **kwargs):
            paths = find(prop, fontext, directory, *args, **kwargs)
            if fontext != "ttf" or directory is not None:  # AFM metrics, or a folder the caller chose
                return paths
            try:
                for family in CJK_FAMILIES:
                    wanted = font_manager.FontProperties._from_any(prop).copy()
                    wanted.set_family(family)
                    path = manager.findfont(wanted, fallback_to_default=False)
                    if path not in paths:
                        paths = [*paths, path]
            except Exception:
                pass
            return paths

        find_with_cjk.__doc__ = find.__doc__
        manager._find_fonts_by_props = find_with_cjk
    except Exception:
        pass


def main():
    ctrl_in, ctrl_out = int(sys.argv[1]), int(sys.argv[2])
    _raise_oom_score()
    _prepare_home()
    kernel = Kernel(ctrl_in, ctrl_out)
    kernel.warm_up()
    _cap_memory()
    kernel.serve()


if __name__ == "__main__":
    main()
