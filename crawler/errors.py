"""Library exceptions. The CLI turns each into an exit code and a one-line message."""

import signal


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


class Stopped(SyndtraceError):
    """A signal stopped the run cleanly (SIGTERM from timeout, systemd or kill; SIGINT from Ctrl-C)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum   # what a shell reports for a process a signal ended
        super().__init__(f"stopped by {signal.Signals(signum).name}; what was stored is kept, "
                         "and the next run completes it")
