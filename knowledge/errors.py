"""The project's error hierarchy."""


class BanshiError(Exception):
    """Base of every error this project raises on purpose."""


class KnowledgeError(BanshiError):
    """A knowledge file or pack cannot be read at all."""


class IndexMismatchError(BanshiError):
    """The index on disk was built by another embedder or schema version."""


class ConfigError(BanshiError):
    """A setting or argument has a bad value."""


class UsageError(BanshiError):
    """A command-line argument names something that cannot be used (the command exits with status 2)."""
