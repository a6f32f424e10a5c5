"""A pandas DataFrame or Series that was a cell's last value, as a table for people.

Loaded by kernel.py (from the runner's folder, which is not on the session's import path) and run
in the kernel, after the cell: what it makes is checked again by the supervisor (kernel_frames.py)
and the host, like everything the kernel sends. The model keeps reading the value's repr; this is
for the chat platforms, which show a table block and attach the data as CSV:

  {"kind": "dataframe" | "series", "columns": [text], "indexColumns", "dtypes": [text],
   "rows": [[text]], "totalRows", "totalColumns",
   "csv": {"path": ".codebot/tables/<name>.csv", "bytes", "complete"}}

columns holds the index's level names first (indexColumns of them; an unnamed level is ""), then
the data's; a default RangeIndex (0, 1, 2... unnamed) is not a column, in the table or the CSV. At
most MAX_ROWS rows and MAX_COLUMNS columns are shown (index columns included: Slack's table block
takes 20), each cell as pandas formats it (its display precision, NaN as "NaN"), every text at most
MAX_TEXT UTF-16 units (as the host counts). The CSV is the whole value (to_csv), in the runner's
hidden folder (never listed, never saved into workspaces), cut at a line once over its cap
(complete is false then); only the newest KEEP_TABLES stay, so a turn's several executions keep
theirs until the host has read them.

Any exception (a cell whose __str__ raises, a subclass that breaks pandas) means no table: the
execution's result is the same as without one.
"""

import os
import sys

DATA_DIR = "/mnt/data"
TABLES_DIR = "/mnt/data/.codebot/tables"
MAX_ROWS = 50
MAX_COLUMNS = 20  # shown, the index's included
MAX_INDEX_COLUMNS = 10  # levels of a MultiIndex shown; the data gets the rest of the 20
MAX_TEXT = 200  # UTF-16 units of a cell, a header, a dtype
MAX_CSV_BYTES = 8 << 20
KEEP_TABLES = 10  # CSV files kept: a turn takes at most 5 tables, each of an execution of its own
HEADER_SEPARATOR = " / "  # between the levels of a MultiIndex column's name
SERIES_HEADER = "value"  # the data column of an unnamed Series


class _Full(Exception):
    """The CSV reached its cap: pandas is stopped rather than left to format the rest."""


def _units(text):
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip16(text, limit=MAX_TEXT):
    """text cut to at most limit UTF-16 units, the cut marked with an ellipsis."""
    if len(text) <= limit // 2 or _units(text) <= limit:
        return text
    used, kept = 1, []
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit:
            break
        used += width
        kept.append(char)
    return "".join(kept) + "\u2026"


def _label(value):
    """A header: a name as text, a MultiIndex column's levels joined (empty levels left out)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return clip16(HEADER_SEPARATOR.join(text for text in (_label(part) for part in value) if text))
    return clip16(str(value))


def _format_values(values):
    """The display text of each value, as pandas formats a column of a frame's repr."""
    try:
        from pandas.io.formats.format import format_array
    except ImportError:  # another pandas: plain text, floats with pandas' default precision
        format_array = None
    if format_array is not None:
        import pandas

        # pandas cuts a text at display.max_colwidth (50) for a repr of many columns; a table cell has 200
        with pandas.option_context("display.max_colwidth", MAX_TEXT):
            return [clip16(text.strip()) for text in format_array(values, None)]
    texts = []
    for value in values:
        if isinstance(value, float):
            texts.append("NaN" if value != value else format(value, ".6g"))
        else:
            texts.append(clip16(str(value)))
    return texts


def _is_default_index(index, pd):
    return (type(index) is pd.RangeIndex and index.start == 0 and index.step == 1 and index.name is None)


def _room():
    """Bytes a CSV may take: its cap, and never more than a quarter of the disk's free space."""
    try:
        stats = os.statvfs(DATA_DIR)
        return min(MAX_CSV_BYTES, stats.f_bavail * stats.f_frsize // 4)
    except OSError:
        return 0


class _CappedFile:
    """A text sink for to_csv writing UTF-8 to a file, up to cap bytes, then cut at a line end."""

    def __init__(self, handle, cap):
        self.handle = handle
        self.cap = cap
        self.written = 0
        self.complete = True

    def write(self, text):
        data = text.encode("utf-8", "replace")
        if self.written + len(data) > self.cap:
            room = self.cap - self.written
            cut = data.rfind(b"\n", 0, room) + 1
            self.handle.write(data[:cut])
            self.written += cut
            self.complete = False
            raise _Full()
        self.handle.write(data)
        self.written += len(data)
        return len(text)


def _prune(keep_path):
    """Removes all but the newest KEEP_TABLES files of the tables folder (never keep_path)."""
    found = []
    try:
        with os.scandir(TABLES_DIR) as entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry.path != keep_path and not entry.is_dir(follow_symlinks=False):
                    found.append((info.st_mtime_ns, entry.path))
    except OSError:
        return
    found.sort(reverse=True)
    for _, path in found[KEEP_TABLES - 1:]:
        try:
            os.unlink(path)
        except OSError:
            pass


def _write_csv(frame, index, cell):
    """The whole frame as CSV in the hidden folder: {path, bytes, complete}, or None."""
    os.makedirs(TABLES_DIR, mode=0o700, exist_ok=True)
    name = "cell-%d-%s.csv" % (cell, os.urandom(4).hex())
    path = os.path.join(TABLES_DIR, name)
    try:
        with open(path, "xb") as handle:
            sink = _CappedFile(handle, _room())
            try:
                frame.to_csv(sink, index=index)
            except _Full:
                pass
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    _prune(path)
    return {"path": os.path.relpath(path, DATA_DIR), "bytes": sink.written, "complete": sink.complete}


def table_value(value, cell):
    """The table of a DataFrame or Series (see the module's doc), or None for any other value."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    kind = type(value)  # type(), not isinstance: a value can't pass itself off by its __class__
    if issubclass(kind, pd.DataFrame):
        frame = value
        table_kind = "dataframe"
    elif issubclass(kind, pd.Series):
        frame = value.to_frame() if value.name is not None else value.to_frame(name=SERIES_HEADER)
        table_kind = "series"
    else:
        return None
    index = frame.index
    with_index = not _is_default_index(index, pd)
    levels = min(index.nlevels, MAX_INDEX_COLUMNS) if with_index else 0
    shown_rows = min(len(frame), MAX_ROWS)
    data = frame.iloc[:shown_rows, :MAX_COLUMNS - levels]
    columns = [_label(name) for name in list(index.names)[:levels]] + [_label(name) for name in data.columns]
    dtypes = ["index"] * levels + [clip16(str(dtype)) for dtype in data.dtypes]
    cells = [_format_values(index[:shown_rows].get_level_values(level)._values) for level in range(levels)]
    cells += [_format_values(data.iloc[:, position]._values) for position in range(data.shape[1])]
    rows = [[column[row] for column in cells] for row in range(shown_rows)]
    table = {
        "kind": table_kind,
        "columns": columns,
        "indexColumns": levels,
        "dtypes": dtypes,
        "rows": rows,
        "totalRows": int(frame.shape[0]),
        "totalColumns": int(frame.shape[1]),
    }
    try:
        csv = _write_csv(frame, with_index, cell)
    except KeyboardInterrupt:
        raise
    except BaseException:  # the disk is full, a value can't be written: the table without its CSV
        csv = None
    if csv:
        table["csv"] = csv
    return table
