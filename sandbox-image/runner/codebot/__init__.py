"""codebot's data sources, from the sandbox's Python session.

    from codebot import sql, fetch, sources
    sources()                                   # the sources usable in this thread: name, kind, description, tables
    df = sql("warehouse", "select region, sum(amount) as total from orders group by region")
    raw = fetch("stats", "daily.json", params={"day": "2026-12-01"})

The sandbox has no network and holds no credential: each call goes over the runner's private
channel to codebot's worker, which checks it against its policy (the thread's channel, the source,
read-only SQL, paths under the source's base URL), runs it with the credentials only it has, and
streams the answer back into a file of /mnt/data/.codebot/ that is read here and removed.
Failures raise a DataSourceError subclass (see codebot.errors).
"""

from codebot.client import fetch, sources, sql
from codebot.errors import (
    DataSourceError,
    HTTPStatusError,
    NotAllowedHere,
    QueryError,
    QueryTimeout,
    ReadOnlyError,
    ResponseTooLarge,
    SourceUnreachable,
    TooManyRows,
    UnknownSource,
)

__all__ = [
    "sql", "fetch", "sources",
    "DataSourceError", "NotAllowedHere", "UnknownSource", "ReadOnlyError", "QueryTimeout", "TooManyRows",
    "SourceUnreachable", "QueryError", "ResponseTooLarge", "HTTPStatusError",
]
