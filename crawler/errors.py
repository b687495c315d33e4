"""Library exceptions. The CLI turns each into an exit code and a one-line message."""


class SyndtraceError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = 1


class UserInputError(SyndtraceError):
    """Bad input from the user: unknown URL, unreadable file, bad option value."""


class StorageError(SyndtraceError):
    """The database cannot be opened or written (read-only, full disk, corrupt, newer schema)."""


class CrawlError(SyndtraceError):
    """The crawl process failed."""


class NothingFetchedError(CrawlError):
    """A crawl could fetch nothing: no start URL answered, or the proxy cannot be reached."""

    exit_code = 4


class LockedError(SyndtraceError):
    """Another run holds the database lock."""

    exit_code = 3


class EngineError(SyndtraceError):
    """The distributed engine cannot run the job: not installed, no Java runtime, its master cannot be
    reached, or the job failed on the cluster."""

    exit_code = 5
