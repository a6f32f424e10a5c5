"""Reads a SQL result the worker streamed into a file: CSV without a header, NULL as an unquoted
\\N, one column type per column in the answer ("int", "uint", "float", "bool", "datetime",
"datetimetz", "date", "text", ...), so pandas gets the right dtypes without guessing (and without
pyarrow, which the image lacks). An int or bool column without NULLs is numpy's int64 / uint64 /
bool (as pandas.read_sql gives them, and several times faster to read); with NULLs, pandas'
nullable Int64 / UInt64 / boolean, so no value is lost to float."""

READ_DTYPES = {"int": "int64", "uint": "uint64", "float": "float64", "bool": "bool"}
NULLABLE_DTYPES = {"int": "Int64", "uint": "UInt64", "bool": "boolean"}
DATE_TYPES = ("datetime", "datetimetz", "date")


def _parsed(series, **options):
    """The column as datetime64 if every value parses, else None."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", **options)
    except (ValueError, TypeError):
        return None
    return parsed if int(parsed.isna().sum()) == int(series.isna().sum()) else None


def _dates(series, kind):
    """The column as datetime64 where every value parses; as the text it was otherwise (years
    past 2262, "infinity"), so nothing is turned into a missing value. "datetimetz" values come
    without their offset, in UTC (the worker's session is in UTC): read naive, then marked UTC."""
    parsed = _parsed(series)
    if parsed is not None and kind == "datetimetz":
        parsed = parsed.dt.tz_localize("UTC") if parsed.dt.tz is None else parsed.dt.tz_convert("UTC")
    elif parsed is None and kind == "datetimetz":
        parsed = _parsed(series, utc=True)
    return series if parsed is None else parsed


def read_table(path, columns):
    """A DataFrame of the file, its columns named and typed as the worker said (duplicate names kept)."""
    import pandas as pd

    names = [column["name"] for column in columns]
    kinds = [column.get("type", "text") for column in columns]
    dtype = {index: (NULLABLE_DTYPES if column.get("nulls", True) else READ_DTYPES).get(kind, READ_DTYPES.get(kind, "object"))
             for index, (kind, column) in enumerate(zip(kinds, columns))}
    if not columns:
        return pd.DataFrame()
    try:
        frame = pd.read_csv(path, header=None, names=list(range(len(columns))), dtype=dtype, na_values=["\\N"],
                            keep_default_na=False, encoding="utf-8", quotechar='"', doublequote=True,
                            lineterminator="\n", engine="c")
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame({index: pd.Series([], dtype=dtype[index]) for index in range(len(columns))})
    for index, kind in enumerate(kinds):
        if kind in DATE_TYPES:
            frame[index] = _dates(frame[index], kind)
    frame.columns = names
    return frame
