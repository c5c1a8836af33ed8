"""One way to write Russian and English outside the web's templates (docs/code.md, "Texts in
Russian and English"): `core/domain/text.py` is the one place that chooses between the two
(`Text.get`); every other module writes its words as ru/en pairs. Read from the source: no
module branches on the language (`if x.ru:`, `... if ru else ...`, `lang == "ru"`). The
web's Babel code (`entrypoints/web/i18n.py`, the templates) chooses its own catalogs and is
not read. And the mechanism's own rules: `Text.format`, `Text.get`, `Plural`, `quoted`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import podpiska
from podpiska.core.domain.text import QUOTED, Plural, Text, plural_ru, quoted

SRC = Path(podpiska.__file__).resolve().parent
# The one place that chooses a language between Russian and English; the web's Babel code.
ALLOWED = {SRC / "core" / "domain" / "text.py", SRC / "entrypoints" / "web" / "i18n.py"}

BRANCHES = [
    re.compile(r"\bif\s+(?:not\s+)?(?:\w+\.)*ru\b(?!\w)"),  # if ru / if x.ru / if self.ru
    re.compile(r"\bif\b[^#\n]*\.ru\b\s+else\b"),  # ... if x.ru else ...
    re.compile(r"\.ru\s+else\b"),
    re.compile(r"""[!=]=\s*["'](?:ru|en)["']"""),  # lang == "ru", language != "en"
    re.compile(r"""["'](?:ru|en)["']\s*[!=]="""),
    re.compile(r"\bru\s*=\s*(?:lang|language|\w+\(\))"),  # ru = lang == "ru"
]


def _branches(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if any(pattern.search(code) for pattern in BRANCHES):
            found.append(f"{number}: {line.strip()}")
    return found


def test_no_module_branches_on_the_language() -> None:
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path not in ALLOWED and (lines := _branches(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"write these as Text(ru, en) pairs (core/domain/text.py): {found}"


@pytest.mark.parametrize(
    "line",
    [
        "if x.ru:",
        'return "а" if ru else "b"',
        'word = "а" if self.ru else "b"',
        'return self.message_ru if lang == "ru" else self.message_en',
        '    ru = lang == "ru"',
        "if language != 'ru':",
    ],
)
def test_the_check_sees_a_branch(line: str) -> None:
    assert _branches(line)


@pytest.mark.parametrize(
    "line",
    [
        "name_ru = offer.name.ru if offer else rule.offer",
        'lang = language if language in ("ru", "en") else "ru"',
        "return Text(ru, en).get(lang)",
        'x.t("Счёт оплачен", "Invoice paid")  # if ru: never',
    ],
)
def test_the_check_lets_pairs_be(line: str) -> None:
    assert not _branches(line)


# -- Text ----------------------------------------------------------------------------------


@given(st.text())
def test_get_is_english_for_any_language_but_russian(lang: str) -> None:
    text = Text("да", "yes")
    assert text.get(lang) == ("да" if lang == "ru" else "yes")
    assert text.get() == "да"


@given(st.text(), st.integers(), st.text())
def test_format_fills_both_templates(name: str, n: int, lang: str) -> None:
    template = Text("Тариф {name}: {n} мес.", "Plan {name}: {n} mo.")
    filled = template.format(name=name, n=n)
    assert filled == Text(f"Тариф {name}: {n} мес.", f"Plan {name}: {n} mo.")
    assert filled.get(lang) == template.get(lang).format(name=name, n=n)


def test_format_refuses_a_missing_value_in_either_language() -> None:
    with pytest.raises(KeyError):
        Text("{a}", "{b}").format(a=1)


def test_as_json_and_sum() -> None:
    assert Text("а", "b").as_json() == {"ru": "а", "en": "b"}
    assert Text("а", "b") + Text("в", "c") == Text("ав", "bc")


def test_quotes_are_the_languages() -> None:
    assert quoted("Стандартный", "ru") == "«Стандартный»"
    assert quoted("Standard", "en") == "“Standard”"
    assert quoted("Standard", "de") == "“Standard”"
    assert QUOTED.format(name="X").as_json() == {"ru": "«X»", "en": "“X”"}


# -- Plural --------------------------------------------------------------------------------

DAYS = Plural("день", "дня", "дней", "day", "days")


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [
        (0, "0 дней", "0 days"),
        (1, "1 день", "1 day"),
        (2, "2 дня", "2 days"),
        (4, "4 дня", "4 days"),
        (5, "5 дней", "5 days"),
        (11, "11 дней", "11 days"),
        (12, "12 дней", "12 days"),
        (14, "14 дней", "14 days"),
        (21, "21 день", "21 days"),
        (22, "22 дня", "22 days"),
        (101, "101 день", "101 days"),
        (111, "111 дней", "111 days"),
        (112, "112 дней", "112 days"),
    ],
)
def test_plural_counts(n: int, ru: str, en: str) -> None:
    assert DAYS.count(n, "ru") == ru
    assert DAYS.count(n, "en") == en


@given(st.integers(min_value=0, max_value=10**9))
def test_the_russian_form_follows_the_last_two_digits(n: int) -> None:
    assert DAYS.word(n).ru == DAYS.word(n % 100).ru == DAYS.word(n + 100).ru
    assert plural_ru(n, "1", "2", "5") == plural_ru(-n, "1", "2", "5")


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_the_russian_form_by_the_rule(n: int) -> None:
    last, two = abs(n) % 10, abs(n) % 100
    expected = (
        "one"
        if last == 1 and two != 11
        else "few"
        if 2 <= last <= 4 and not 12 <= two <= 14
        else "many"
    )
    assert plural_ru(n, "one", "few", "many") == expected
    assert DAYS.word(n).en == ("day" if n == 1 else "days")
