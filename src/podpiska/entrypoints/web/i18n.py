"""Texts of the web application in Russian (the default) and English.

The messages live in Babel catalogs under `locale/` (`messages.pot`, `ru` and `en`
`.po` files, committed). They are compiled in memory when the application starts (no
`.mo` file to forget); `make messages` extracts and updates them (docs/web.md).

The language of a request is chosen once, by `choose_language` (the `lang` cookie set by
the switch, else Accept-Language, else ru), and kept in a context variable for the
request's rendering: `gettext` below, the templates' `_()`/`{% trans %}` and the
formatting helpers all read it.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("podpiska_web_lang", default=DEFAULT_LANGUAGE)


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of a language (compiled from its .po once per process)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def choose_language(request: Request) -> str:
    """The `lang` cookie, else the first of Accept-Language we speak, else ru."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def use_language(lang: str) -> None:
    """Speak `lang` for the rest of this request (its context)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction without translating it yet (module constants)."""
    return message
