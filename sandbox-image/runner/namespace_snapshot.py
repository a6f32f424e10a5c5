"""Saves the user's variables to the sandbox's own disk and loads them back (durable workspaces).

Runs in the kernel, as uid 1000, on the user's own objects: a snapshot is the user's data, written
and only ever unpickled here, in the thread's own sandbox (never on the host). The host downloads
the file to keep it while the thread hibernates and uploads it into the thread's next sandbox.

The file, /mnt/data/.codebot/state.pkl (a folder the file listings never show), is a sequence of
pickles of plain tuples, read back with an unpickler that refuses every global:
  ("codebot-namespace", 1)          the header
  (name, "module", module_name)     `import module_name`, bound to name (`import pandas as pd`)
  (name, "value", payload)          the value pickled on its own (pickle, or dill where pickle can't)
Each value is pickled alone, so one that can't be (an open file, a socket, a generator, a lock)
is skipped with its type and a reason, and one that fails to load (its class's module is gone)
fails alone. Classes and functions defined in cells are pickled by value (dill); everything else
that refers to one of them, or to a module's global, refers to it by name and finds it again.
"""

import builtins
import importlib
import io
import os
import pickle
import sys
import types
import warnings

STATE_DIR = "/mnt/data/.codebot"
STATE_FILE = os.path.join(STATE_DIR, "state.pkl")
MAGIC = "codebot-namespace"
VERSION = 1
PROTOCOL = 5
MAX_LISTED = 200
MAX_TEXT = 200  # characters as the host counts them (UTF-16 units)
LARGEST = 5
WHOLE_FILE = "(snapshot)"  # the name failures of the file itself are listed under

MODULE, CLASS, FUNCTION, OTHER = range(4)  # the order records are written and loaded in


def clip(text, limit=MAX_TEXT):
    """text cut to at most limit UTF-16 units (never inside a surrogate pair)."""
    if len(text) * 2 <= limit:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * limit:
        return text
    cut = units[:2 * limit]
    if 0xD800 <= int.from_bytes(cut[-2:], "little") <= 0xDBFF:
        cut = cut[:-2]
    return cut.decode("utf-16-le", "surrogatepass")


def hidden(name):
    """Names never saved nor restored: dunders (__builtins__, __name__...) and the last value `_`."""
    return name == "_" or (name.startswith("__") and name.endswith("__"))


def _describe_error(exc):
    try:
        message = str(exc)
    except Exception:
        message = ""
    return "%s: %s" % (type(exc).__name__, message) if message else type(exc).__name__


def _refusal(obj):
    """Why obj is never saved (its state lives outside Python's objects), or None."""
    if isinstance(obj, io.IOBase) and not isinstance(obj, (io.BytesIO, io.StringIO)):
        return "it is an open file or stream"
    if isinstance(obj, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        return "it is a running generator or coroutine"
    if isinstance(obj, (types.FrameType, types.TracebackType)):
        return "it is a running frame"
    socket = sys.modules.get("socket")
    if socket is not None and isinstance(obj, socket.socket):
        return "it is an open socket"
    threading = sys.modules.get("threading")
    if threading is not None:
        if isinstance(obj, threading.Thread):
            return "it is a thread"
        if isinstance(obj, (type(threading.Lock()), type(threading.RLock()))):
            return "it is a lock"
    return None


class _Refused(pickle.PicklingError):
    pass


class _Missing(Exception):
    """A value refers to a class or function of the session that is not restored (yet)."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class _Sink:
    """Where a value is pickled: kept in memory, or only counted once the snapshot is too large."""

    def __init__(self, keep):
        self.keep = keep
        self.parts = io.BytesIO() if keep else None
        self.size = 0

    def write(self, data):
        size = memoryview(data).nbytes
        self.size += size
        if self.keep:
            self.parts.write(data)
        return size

    def reset(self):
        self.size = 0
        if self.keep:
            self.parts = io.BytesIO()

    def value(self):
        return self.parts.getvalue()


class _Records(pickle.Unpickler):
    """Reads the file's own tuples: no global, so nothing of the file runs while it is read."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError("the snapshot's records refer to %s.%s" % (module, name))

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("the snapshot's records refer to another object")


class NamespaceSnapshot:
    """Snapshots and restores one namespace: the __dict__ of main, the kernel's __main__ module."""

    def __init__(self, main):
        self.main = main
        self.namespace = main.__dict__
        import dill
        import dill._dill

        # dill refers to the globals of the session's functions as __main__.__dict__ (the
        # namespace they are loaded into); its notion of __main__ is the one it saw on import.
        dill._dill._main_module = main
        snapshot = self

        class Pickler(dill.Pickler):
            def __init__(self, file, top, refs):
                super().__init__(file, protocol=PROTOCOL, byref=False, recurse=False)
                self._main = snapshot.main
                self.top = top
                self.refs = refs

            def persistent_id(self, obj):
                reason = _refusal(obj)
                if reason:
                    raise _Refused(reason)
                if obj is not self.top and isinstance(obj, (type, types.FunctionType)):
                    return self.refs.get(id(obj))
                return None

        class Unpickler(dill.Unpickler):
            def __init__(self, file, restored):
                super().__init__(file, ignore=True)
                self._main = snapshot.main
                self.restored = restored

            def find_class(self, module, name):
                if module == "__main__" and name != "__dict__" and name not in snapshot.namespace:
                    raise _Missing(name)
                return super().find_class(module, name)

            def persistent_load(self, pid):
                if not isinstance(pid, str) or pid not in self.restored or pid not in snapshot.namespace:
                    raise _Missing(pid if isinstance(pid, str) else "?")
                return snapshot.namespace[pid]

        self.Pickler = Pickler
        self.Unpickler = Unpickler

    # --- saving -------------------------------------------------------------------------

    def _candidates(self, skipped):
        """The variables to save, modules first, then classes, functions and the rest."""
        display = getattr(builtins, "display", None)  # the kernel's own
        groups = ([], [], [], [])
        for name, value in list(self.namespace.items()):
            if not isinstance(name, str):
                skipped.append((clip(repr(name)), "its name is not text"))
                continue
            if hidden(name) or (display is not None and value is display):
                continue
            if isinstance(value, types.ModuleType):
                module_name = getattr(value, "__name__", None)
                if isinstance(module_name, str) and sys.modules.get(module_name) is value:
                    groups[MODULE].append((name, value))
                    continue
            if isinstance(value, type):
                groups[CLASS].append((name, value))
            elif isinstance(value, types.FunctionType):
                groups[FUNCTION].append((name, value))
            else:
                groups[OTHER].append((name, value))
        return [(group, name, value) for group, members in enumerate(groups) for name, value in members]

    def _pickle(self, value, sink, refs):
        """Pickles value into sink: the standard (C) pickler first, dill where it can't."""
        defined_here = getattr(value, "__module__", None) == "__main__"
        if not isinstance(value, type) and not (callable(value) and defined_here):
            # Classes and functions of the session must be saved by value; the standard pickler
            # would save them by name (a reference to themselves).
            try:
                pickle.Pickler(sink, protocol=PROTOCOL).dump(value)
                return
            except Exception:
                sink.reset()
        self.Pickler(sink, value, refs).dump(value)

    def snapshot(self, max_bytes):
        discard()
        skipped, saved, sizes = [], [], []
        candidates = self._candidates(skipped)
        refs = {}
        for _, name, value in candidates:
            if isinstance(value, (type, types.FunctionType)) and getattr(value, "__module__", None) == "__main__":
                refs.setdefault(id(value), name)
        os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
        temp = "%s.%d.tmp" % (STATE_FILE, os.getpid())
        out = open(temp, "wb")
        total = 0
        try:
            pickle.dump((MAGIC, VERSION), out, protocol=PROTOCOL)
            total = out.tell()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for group, name, value in candidates:
                    if group == MODULE:
                        record = (name, "module", value.__name__)
                        size = len(value.__name__.encode("utf-8", "surrogatepass"))
                    else:
                        sink = _Sink(keep=out is not None)
                        try:
                            reason = _refusal(value)
                            if reason:
                                raise _Refused(reason)
                            self._pickle(value, sink, refs)
                        except Exception as exc:
                            why = str(exc) if isinstance(exc, _Refused) else _describe_error(exc)
                            skipped.append((clip(name), clip("%s can't be saved: %s" % (type(value).__name__, why))))
                            continue
                        size = sink.size
                        record = (name, "value", sink.value()) if out is not None else None
                        del sink
                    saved.append(name)
                    sizes.append((size, name))
                    if out is not None:
                        start = out.tell()
                        pickle.dump(record, out, protocol=PROTOCOL)
                        total += out.tell() - start
                        del record
                        if total > max_bytes:  # too large: only measure the rest
                            out.close()
                            out = None
                            os.unlink(temp)
                    else:
                        total += size + len(name) + 32
            too_large = out is None or total > max_bytes
            if out is not None:
                out.flush()
                os.fsync(out.fileno())
                out.close()
                out = None
                if too_large:
                    os.unlink(temp)
                else:
                    os.replace(temp, STATE_FILE)
        finally:
            if out is not None:  # failed mid-way (the disk is full, say): leave nothing behind
                out.close()
                try:
                    os.unlink(temp)
                except OSError:
                    pass
        sizes.sort(key=lambda item: -item[0])
        answer = {
            "saved": [] if too_large else [clip(name) for name in saved[:MAX_LISTED]],
            "skipped": [{"name": name, "reason": reason} for name, reason in skipped[:MAX_LISTED]],
            "bytes": total,
            "largest": [{"name": clip(name), "bytes": size} for size, name in sizes[:LARGEST]],
            "tooLarge": too_large,
        }
        if not too_large and len(saved) > MAX_LISTED:
            answer["moreSaved"] = len(saved) - MAX_LISTED
        if len(skipped) > MAX_LISTED:
            answer["moreSkipped"] = len(skipped) - MAX_LISTED
        return answer

    # --- loading ------------------------------------------------------------------------

    def _load(self, name, kind, payload, restored):
        if kind == "module":
            value = importlib.import_module(payload)
        else:
            value = self.Unpickler(io.BytesIO(payload), restored).load()
        self.namespace[name] = value
        restored.add(name)

    def restore(self):
        restored, order, failed = set(), [], []
        try:
            handle = open(STATE_FILE, "rb")
        except FileNotFoundError:
            return {"restored": [], "failed": []}
        except OSError as exc:
            return {"restored": [], "failed": [{"name": WHOLE_FILE, "reason": clip(_describe_error(exc))}]}
        waiting = []
        with handle:
            discard()
            try:
                header = _Records(handle).load()
            except Exception as exc:
                header = exc
            if header != (MAGIC, VERSION):
                reason = "not a snapshot of this version" if isinstance(header, tuple) else "not a namespace snapshot"
                return {"restored": [], "failed": [{"name": WHOLE_FILE, "reason": reason}]}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                while True:
                    try:
                        record = _Records(handle).load()  # each record is a pickle of its own
                    except EOFError:
                        break
                    except Exception as exc:
                        failed.append((WHOLE_FILE, "the rest of the file is damaged (%s)" % _describe_error(exc)))
                        break
                    if (not isinstance(record, tuple) or len(record) != 3 or not isinstance(record[0], str)
                            or (record[1], type(record[2])) not in (("module", str), ("value", bytes))):
                        failed.append((WHOLE_FILE, "a record of the file is damaged"))
                        continue
                    name, kind, payload = record
                    if hidden(name):
                        failed.append((name, "a reserved name"))
                        continue
                    try:
                        self._load(name, kind, payload, restored)
                        order.append(name)
                    except _Missing as missing:
                        waiting.append((name, kind, payload, missing.name))
                    except Exception as exc:
                        failed.append((name, _describe_error(exc)))
                    del record, payload
                # Values that refer to a class or function of the session restored after them.
                progress = True
                while waiting and progress:
                    progress = False
                    still = []
                    for name, kind, payload, _ in waiting:
                        try:
                            self._load(name, kind, payload, restored)
                            order.append(name)
                            progress = True
                        except _Missing as missing:
                            still.append((name, kind, payload, missing.name))
                        except Exception as exc:
                            failed.append((name, _describe_error(exc)))
                    waiting = still
                for name, _, _, needed in waiting:
                    failed.append((name, "it needs %s, which was not restored" % needed))
        answer = {
            "restored": [clip(name) for name in order[:MAX_LISTED]],
            "failed": [{"name": clip(name), "reason": clip(reason)} for name, reason in failed[:MAX_LISTED]],
        }
        if len(order) > MAX_LISTED:
            answer["moreRestored"] = len(order) - MAX_LISTED
        if len(failed) > MAX_LISTED:
            answer["moreFailed"] = len(failed) - MAX_LISTED
        return answer


def discard():
    """Removes a snapshot left in the session's disk (the host has downloaded it by now)."""
    try:
        os.unlink(STATE_FILE)
        os.rmdir(STATE_DIR)  # if the code keeps nothing of its own there
    except OSError:
        pass
