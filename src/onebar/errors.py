"""onebar's exception tree: one root, each class knowing its exit code and HTTP status.

    OnebarError                 exit 1, HTTP 500
    ├── UsageError              exit 2, HTTP 400   bad input: a file, flag or request
    │   ├── CharterError        exit 2, HTTP 422   onebar.toml is malformed or invalid
    │   ├── EvidenceError       exit 2, HTTP 422   coverage / SARIF / SBOM / reviews unusable
    │   └── NotARepositoryError exit 2, HTTP 404   a path that is not a git repository
    ├── GitError                exit 2, HTTP 500   git failed (missing ref, corrupt repository)
    ├── StoreError              exit 1, HTTP 503   the database is unreachable or inconsistent
    │   └── ReadOnlyStoreError  exit 1, HTTP 503   a write to a store that can only be read
    ├── RemoteError             exit 1, HTTP 502   a remote service (a code host's API) failed or refused
    ├── NotFoundError           exit 2, HTTP 404   a named thing (person, org, ADR) does not exist
    ├── ConflictError           exit 2, HTTP 409   it already exists (a repository name, a running job)
    ├── AuthenticationError     exit 2, HTTP 401   no credentials, or a token unknown, revoked or expired
    └── PermissionDeniedError   exit 2, HTTP 403   authenticated, but the role may not do this

Errors become messages only at the edges (the CLI and the HTTP service).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    """Where an error was found: a file, and optionally a line and a field."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.field:
            out += f": {self.field}"
        return out


class OnebarError(Exception):
    """Root of every error onebar raises on purpose."""

    exit_code = 1
    http_status = 500
    retry_after: int | None = None  # seconds after which the same request may well succeed (HTTP Retry-After)

    def __init__(
        self, message: str, *, location: Location | None = None, hint: str | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        # The input field at fault (a parameter name such as "since"); each edge names it its own
        # way: the CLI as its flag (--since), the HTTP API as the query or body field.
        self.field = field if field is not None else (location.field if location else None)

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else (f"{self.field}: " if self.field else "")
        suffix = f" ({self.hint})" if self.hint else ""
        return f"{prefix}{self.message}{suffix}"

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its attributes, whatever the subclass's constructor takes: errors cross
        # process boundaries (Dask workers) and must arrive whole.
        return (_rebuild, (type(self), self.args, self.__dict__))

    def to_dict(self) -> dict[str, object]:
        """The one JSON error shape of the CLI's --format json and the HTTP API."""
        loc = self.location
        return {
            "error": type(self).__name__,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "field": self.field,
            "hint": self.hint,
        }


class UsageError(OnebarError):
    exit_code = 2
    http_status = 400


@dataclass
class Problem:
    """One of possibly many problems in a single input file."""

    message: str
    line: int | None = None
    field: str | None = None


class CharterError(UsageError):
    """The charter cannot be read or is invalid; carries every problem found, not just the first."""

    http_status = 422

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        first = problems[0]
        super().__init__(
            first.message if len(problems) == 1 else f"{len(problems)} problems in the charter",
            location=Location(file, first.line, first.field),
        )

    def __str__(self) -> str:
        return "\n".join(str(Location(self.file, p.line, p.field)) + f": {p.message}" for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["problems"] = [{"line": p.line, "field": p.field, "message": p.message} for p in self.problems]
        return out


class EvidenceError(UsageError):
    http_status = 422


class NotARepositoryError(UsageError):
    http_status = 404


class GitError(OnebarError):
    exit_code = 2


class StoreError(OnebarError):
    http_status = 503


class ReadOnlyStoreError(StoreError):
    """The store can only be read (a read-only file, mount, role or replica) and something tried to write."""


class StoreBusyError(StoreError):
    """Another writer held the store's write lock for longer than the caller would wait (SQLite)."""

    retry_after = 1  # the other writer's transaction is short: trying again shortly succeeds


class RemoteError(OnebarError):
    """A remote service (a code host's API) failed, timed out or refused after the retries allowed."""

    http_status = 502


class NotFoundError(OnebarError):
    exit_code = 2
    http_status = 404


def _rebuild(cls: type[OnebarError], args: tuple[object, ...], state: dict[str, object]) -> OnebarError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConflictError(OnebarError):
    exit_code = 2
    http_status = 409


class AuthenticationError(OnebarError):
    """No credentials, or credentials that are unknown, revoked or expired."""

    exit_code = 2
    http_status = 401


class PermissionDeniedError(OnebarError):
    """Authenticated, but the role does not allow this."""

    exit_code = 2
    http_status = 403
