"""Reads a SQL result the worker streamed into a file: CSV without a header, NULL as an unquoted
\\N, one column type per column in the answer ("int", "uint", "float", "bool", "datetime",
"datetimetz", "date", "text", ...), so pandas gets the right dtypes without guessing (and without
pyarrow, which the image lacks)."""

READ_DTYPES = {"int": "Int64", "uint": "UInt64", "float": "float64", "bool": "boolean"}
DATE_TYPES = ("datetime", "datetimetz", "date")


def _dates(series, kind):
    """The column as datetime64 where every value parses; as the text it was otherwise (years
    past 2262, "infinity"), so nothing is turned into a missing value."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(series, errors="coerce", utc=kind == "datetimetz", format="ISO8601")
    except (ValueError, TypeError):
        return series
    if int(parsed.isna().sum()) != int(series.isna().sum()):
        return series
    return parsed


def read_table(path, columns):
    """A DataFrame of the file, its columns named and typed as the worker said (duplicate names kept)."""
    import pandas as pd

    names = [column["name"] for column in columns]
    kinds = [column.get("type", "text") for column in columns]
    dtype = {index: READ_DTYPES.get(kind, "object") for index, kind in enumerate(kinds)}
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
