"""What a data-source call raises: one DataSourceError subclass per kind of failure, each named
by the stable code the worker answers with."""


class DataSourceError(Exception):
    """A data-source call failed; `code` is the worker's stable code for why."""

    code = "failed"

    def __init__(self, message, code=None):
        super().__init__(message)
        if code:
            self.code = code


class NotAllowedHere(DataSourceError):
    """Refused by codebot's policy: no source in this thread, a method or a path the source doesn't allow."""

    code = "not-allowed"


class UnknownSource(DataSourceError, KeyError):
    """No source of that name is usable in this thread (sources() lists those that are)."""

    code = "unknown-source"

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class ReadOnlyError(DataSourceError):
    """The statement tried to change something: data sources are read-only."""

    code = "read-only"


class QueryTimeout(DataSourceError, TimeoutError):
    """The query (or request) ran past its time and was cancelled in the database."""

    code = "timeout"


class TooManyRows(DataSourceError):
    """More rows than max_rows (or bytes than the source allows), with allow_truncated=False."""

    code = "too-many-rows"


class SourceUnreachable(DataSourceError, ConnectionError):
    """The source did not answer, or refused codebot's credentials."""

    code = "unreachable"


class QueryError(DataSourceError):
    """The database refused the statement (a syntax error, an unknown table...); its message says why."""

    code = "query-failed"


class ResponseTooLarge(DataSourceError):
    """The HTTP response was larger than the source allows."""

    code = "too-large"


class HTTPStatusError(DataSourceError):
    """The HTTP source answered with an error status (`status`)."""

    code = "http-status"

    def __init__(self, message, code=None, status=None):
        super().__init__(message, code)
        self.status = status


BY_CODE = {cls.code: cls for cls in (NotAllowedHere, UnknownSource, ReadOnlyError, QueryTimeout, TooManyRows,
                                      SourceUnreachable, QueryError, ResponseTooLarge, HTTPStatusError)}


def from_reply(error):
    """The exception for the worker's error answer ({"code", "message", "status"?})."""
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    message = message if isinstance(message, str) else "the data source call failed"
    cls = BY_CODE.get(code, DataSourceError)
    if cls is HTTPStatusError:
        return cls(message, code, status=error.get("status"))
    return cls(message, code if isinstance(code, str) else None)
