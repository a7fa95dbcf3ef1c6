"""UI text in English and Chinese: one catalog per language, looked up by key."""

from __future__ import annotations

from . import en, zh

CATALOGS: dict[str, dict[str, str]] = {"en": en.TEXT, "zh": zh.TEXT}
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}


def t(key: str, lang: str = "en", **values) -> str:
    """The text for ``key`` in ``lang`` (English if the language is unknown), formatted with ``values``."""
    text = CATALOGS.get(lang, en.TEXT)[key]
    return text.format(**values) if values else text
