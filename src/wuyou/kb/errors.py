"""The knowledge base's errors."""


class KbError(Exception):
    """Root of the knowledge base's errors."""


class ArticleFormatError(KbError):
    """An article file is malformed; the message names the file and the problem."""


class ArticleExists(KbError):
    """A draft would overwrite a published article."""
