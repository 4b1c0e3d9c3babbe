"""The project's exception types: each carries a one-line message meant for the user."""


class BpoKpoError(Exception):
    """An error the user can act on; the CLI prints it as one `Error:` line and exits 1."""


class DataError(BpoKpoError):
    """Input data is missing, malformed or inconsistent."""


class ModelError(BpoKpoError):
    """A model file or its metadata is missing, damaged or incompatible."""


class WorkerError(BpoKpoError):
    """A worker process died (killed, or out of memory) before it returned its chunk."""


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP), handled like Ctrl-C: clean up, one line, exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
