"""A text in Russian and English: a catalog's names, the sentences a rule gives back. The
one ru/en pair outside the web's templates (which go through Babel)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """A name in Russian and English."""

    ru: str
    en: str

    def get(self, lang: str = "ru") -> str:
        return self.ru if lang == "ru" else self.en
