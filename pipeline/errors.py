"""The project's exception types: each carries a one-line message meant for the user."""


class BpoKpoError(Exception):
    """An error the user can act on; the CLI prints it as one `Error:` line and exits 1."""


class DataError(BpoKpoError):
    """Input data is missing, malformed or inconsistent."""


class ModelError(BpoKpoError):
    """A model file or its metadata is missing, damaged or incompatible."""
