"""Exceptions with messages meant for users: the CLI prints them as one line, no traceback."""


class QwenAsrEdgeError(Exception):
    """Base class of every error this package raises on purpose."""


class ModelDirError(QwenAsrEdgeError):
    """A model or checkpoint directory is missing, partial, corrupt or of the wrong kind."""


class AudioError(QwenAsrEdgeError):
    """An audio input cannot be read or is unusable (empty, NaN, unsupported format)."""


class InputError(QwenAsrEdgeError):
    """A user argument is invalid (unknown language, context too long, ...)."""
