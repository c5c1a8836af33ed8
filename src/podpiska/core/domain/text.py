"""Texts in Russian and English outside the web's templates (which go through Babel): a
catalog's names, the sentences a rule gives back, the e-mails, the documents' labels, the
CLI's tables, the API's error messages. The one place a language is chosen between the two.

- `Text(ru, en)`: a pair; `.get(lang)` is the Russian for "ru" and the English for any other
  language; `.format(**values)` fills both templates.
- `Plural(one, few, many, en_one, en_other)`: a counting word (`5 месяцев`, `5 months`),
  by the one Russian plural rule, `plural_ru`.
- `QUOTED`: names in quotes, «Стандартный» and “Standard”; `quoted(name, lang)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    """A name or a sentence in Russian and English."""

    ru: str
    en: str

    def get(self, lang: str = "ru") -> str:
        """The Russian for "ru", the English for any other language."""
        return self.ru if lang == "ru" else self.en

    def format(self, **values: Any) -> Text:
        """Both templates filled with `values` (`str.format`)."""
        return Text(self.ru.format(**values), self.en.format(**values))

    def __add__(self, other: Text) -> Text:
        """The two texts one after the other, in both languages."""
        return Text(self.ru + other.ru, self.en + other.en)

    def as_json(self) -> dict[str, str]:
        return {"ru": self.ru, "en": self.en}


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for `n`: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


@dataclass(frozen=True, slots=True)
class Plural:
    """A counting word: Russian one/few/many (день, дня, дней), English one/other."""

    one: str
    few: str
    many: str
    en_one: str
    en_other: str

    def word(self, n: int) -> Text:
        """The word for `n` in both languages."""
        return Text(
            plural_ru(n, self.one, self.few, self.many), self.en_one if n == 1 else self.en_other
        )

    def count(self, n: int, lang: str = "ru") -> str:
        """`5 дней`, `5 days`."""
        return f"{n} {self.word(n).get(lang)}"


QUOTED = Text("«{name}»", "“{name}”")


def quoted(name: object, lang: str = "ru") -> str:
    """`«Стандартный»` in Russian, `“Standard”` in English."""
    return QUOTED.format(name=name).get(lang)
