"""Message catalogues: every user-facing text, zh-CN first, English second."""

from wuyou.i18n.catalog import DEFAULT_LOCALE, LOCALES, Catalog, Phrase

__all__ = ["DEFAULT_LOCALE", "LOCALES", "Catalog", "Phrase"]
