"""Domain errors raised by the retrieval core; front-ends translate them once."""


class NewsbotError(Exception):
    """Base class for every error the core raises on purpose."""


class ArticleFormatError(NewsbotError):
    """An article file or record is malformed: ``where`` (file, or file:line) and ``reason``."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class ModelLoadError(NewsbotError):
    """The embedding model could not be loaded."""


class IndexMissingError(NewsbotError):
    """There is no index in the data directory yet."""


class IndexMismatchError(NewsbotError):
    """The index on disk was built with another model or other settings."""


class InvalidDateError(NewsbotError, ValueError):
    """A reference date could not be parsed."""


class SourceError(NewsbotError):
    """A source given to ``newsbot add`` could not be read; names the source and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexDamagedError(NewsbotError):
    """The index on disk is damaged, or ``CURRENT`` names something it should not."""
