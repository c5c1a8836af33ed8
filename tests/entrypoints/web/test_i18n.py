"""The web's texts and formats: every text of the code and templates is in the catalogs and
translated into Russian; money, dates and moments in the ru format (Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from podpiska.entrypoints.web import formatting
from podpiska.entrypoints.web.i18n import LOCALE_DIR, ngettext, use_language

WEB = Path(formatting.__file__).resolve().parent


def _extracted() -> set[str]:
    """What `make messages` extracts (babel.cfg's methods and options)."""
    found = extract_from_dir(
        str(WEB),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={
            "**/templates/**.html": {
                "extensions": "jinja2.ext.i18n",
                "trim_blocks": "true",
                "lstrip_blocks": "true",
            }
        },
    )
    ids = set()
    for _, _, message, _, _ in found:
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_text_is_in_the_catalogs_and_translated_into_russian() -> None:
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        ru = read_po(source)
    in_catalog = {m.id[0] if isinstance(m.id, tuple) else m.id for m in ru if m.id}
    missing = _extracted() - in_catalog
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"
    untranslated = [
        m.id
        for m in ru
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated, f"translate in ru/LC_MESSAGES/messages.po: {untranslated}"


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1 день"), (3, "3 дня"), (5, "5 дней"), (21, "21 день"), (112, "112 дней")]
)
def test_russian_plurals(n: int, text: str) -> None:
    use_language("ru")
    assert ngettext("%(num)d day", "%(num)d days", n) % {"num": n} == text


def test_money_dates_and_moments_in_russian_and_english() -> None:
    use_language("ru")

    def plain(text: str) -> str:  # Babel puts no-break spaces where a line must not break
        return text.replace("\xa0", " ").replace("\u202f", " ")

    assert plain(formatting.money(Decimal("43092.00"))) == "43 092,00 ₽"
    assert plain(formatting.money(Decimal("-0.00"))) == "0,00 ₽"
    assert formatting.short_date(date(2026, 11, 22)) == "22.11.2026"
    assert plain(formatting.long_date(date(2027, 5, 5))) == "5 мая 2027 г."
    # 09:00 UTC is noon in Moscow
    assert formatting.moment(datetime(2026, 11, 22, 9, 0, tzinfo=UTC)) == "22.11.2026 12:00"
    assert formatting.megabytes(512) == "512 МБ"
    assert plain(formatting.megabytes(1024 * 1024)) == "1 ТБ"
    use_language("en")
    assert plain(formatting.money(Decimal("3990.00"))) == "3,990.00 ₽"
    assert formatting.short_date(date(2026, 11, 22)) == "Nov 22, 2026"
    use_language("ru")
    with pytest.raises(TypeError):
        formatting.money(3990.0)  # type: ignore[arg-type]


def test_a_sentence_ending_with_a_long_date_has_one_full_stop() -> None:
    """ "Оплачено по 18 апреля 2027 г.." was shown: the date's abbreviation and the sentence's
    full stop are one dot (in `_()`, `ngettext()`, `{% trans %}` and flash messages)."""
    from podpiska.entrypoints.web.rendering import environment

    use_language("ru")
    day = date(2027, 4, 18)
    page = environment().from_string(
        '{{ _("Paid through %(day)s.", day=day|long_date) }}|'
        "{% trans day=day|long_date %}Paid through {{ day }}.{% endtrans %}|"
        '{{ ngettext("%(num)d day left", "%(num)d days left", 2) }}...'
    )
    parts = page.render(day=day).replace("\u202f", " ").split("|")
    assert parts[0] == "Оплачено по 18 апреля 2027 г."
    assert parts[1] == "Оплачено по 18 апреля 2027 г."
    assert parts[2].endswith("дня...")  # an ellipsis stays
    assert formatting.one_full_stop("до 27 ноября 2026 г..") == "до 27 ноября 2026 г."
