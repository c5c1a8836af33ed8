"""Unit tests of podpiska.core.domain.errors: stable codes, details, ru/en sentences, the
registry the areas add their codes to."""

from __future__ import annotations

import string
from typing import Any

import pytest

from podpiska.core.domain.errors import REGISTRY, Code, DomainError, Kind, Registry

# Details that fill every template of every code (extra keys are ignored by str.format).
ALL_DETAILS: dict[str, Any] = {
    "message": {"ru": "Приложение недоступно.", "en": "The app is unavailable."},
    "plan": "basic",
    "add_on": "market_plus",
    "allowed": ["standard", "professional"],
    "months": 7,
    "users": 6,
    "max_users": 5,
    "advice": {"ru": "Перейдите на тариф «Стандартный».", "en": "Upgrade to Standard."},
    "promotion": "MARKETPLACE50",
    "window": {"ru": "с 2026-01-01 по 2026-12-31", "en": "from 2026-01-01 to 2026-12-31"},
    "at": "2027-02-01",
    "applies_to": ["marketplace"],
    "reason": {"ru": "портал уже воспользовался этой акцией", "en": "already used"},
    "first": "APPS20",
    "second": "MARKETPLACE50",
    "product": "marketplace",
}


def test_code_and_details_are_kept() -> None:
    err = DomainError("unknown_plan", plan="gold", allowed=["basic", "standard"])
    assert err.code == "unknown_plan"
    assert dict(err.details) == {"plan": "gold", "allowed": ["basic", "standard"]}


def test_message_in_russian_and_english() -> None:
    err = DomainError("unknown_plan", plan="gold", allowed=["basic", "standard"])
    assert err.message("ru") == "Тариф «gold» не найден. Доступны: basic, standard."
    assert err.message("en") == "Unknown plan 'gold'. Allowed: basic, standard."


def test_message_defaults_to_russian() -> None:
    err = DomainError("duplicate_add_on", add_on="marketplace")
    assert err.message() == err.message("ru") == "Подписка «marketplace» указана дважды."


def test_unknown_language_falls_back_to_english() -> None:
    err = DomainError("duplicate_add_on", add_on="marketplace")
    assert err.message("de") == err.message("en") == "Add-on 'marketplace' is given twice."


def test_str_is_the_english_message() -> None:
    err = DomainError("invalid_users", users=0)
    assert str(err) == err.message("en")
    assert "0" in str(err)


def test_is_an_exception() -> None:
    with pytest.raises(DomainError) as info:
        raise DomainError("invalid_users", users=-1)
    assert info.value.code == "invalid_users"
    assert isinstance(info.value, Exception)


def test_unknown_code_is_refused() -> None:
    with pytest.raises(KeyError, match="no_such_code"):
        DomainError("no_such_code")


def test_missing_detail_fails_loudly() -> None:
    with pytest.raises(KeyError):
        DomainError("unknown_plan", plan="gold")


def test_empty_list_reads_none() -> None:
    err = DomainError("unknown_promotion", promotion="X", allowed=[])
    assert err.message("ru") == "Промокод «X» не найден. Действующие акции: нет."
    assert err.message("en") == "Unknown promotion code 'X'. Active promotions: none."


def test_lists_tuples_and_sets_are_joined() -> None:
    err = DomainError("period_not_offered", months=2, allowed=(1, 3, 6, 12, 24))
    assert "1, 3, 6, 12, 24" in err.message("ru")
    assert "1, 3, 6, 12, 24" in err.message("en")
    err = DomainError("unknown_add_on", add_on="x", allowed=frozenset({"only"}))
    assert err.message("en") == "Unknown add-on 'x'. Allowed: only."


def test_ru_en_dict_detail_is_shown_in_the_language() -> None:
    err = DomainError(
        "promotion_not_eligible",
        promotion="MARKETPLACE50",
        reason={"ru": "по-русски", "en": "in English"},
    )
    assert err.message("ru") == "Акция «MARKETPLACE50» недоступна: по-русски."
    assert err.message("en") == "Promotion 'MARKETPLACE50' is not available: in English."
    assert err.message("de").endswith("in English.")


def test_other_dicts_are_shown_as_they_are() -> None:
    err = DomainError("invalid_users", users={"a": 1})
    assert "{'a': 1}" in err.message("en")


@pytest.mark.parametrize("code", sorted(REGISTRY.codes()))
def test_every_code_has_ru_and_en_sentences_and_a_kind(code: str) -> None:
    texts = REGISTRY[code]
    assert isinstance(texts.kind, Kind)
    names = {
        name
        for template in (texts.ru, texts.en)
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }
    details = {name: ALL_DETAILS.get(name, "x1") for name in names}
    err = DomainError(code, **details)
    ru, en = err.message("ru"), err.message("en")
    assert ru
    assert en
    assert ru != en
    assert ru == ru.strip()
    assert "{" not in ru
    assert "{" not in en
    # A Russian sentence is written in Cyrillic, an English one is not.
    assert any("а" <= ch <= "я" for ch in ru.lower())
    assert not any("а" <= ch <= "я" for ch in en.lower())
    assert ru.endswith(".")
    assert en.endswith(".")


def test_the_kind_is_the_codes() -> None:
    assert DomainError("unknown_plan", plan="x", allowed=[]).kind is Kind.INVALID
    assert DomainError("trial_not_needed", add_on="x").kind is Kind.CONFLICT
    assert DomainError("not_found", what="x", id=1).kind is Kind.NOT_FOUND


def test_a_code_registered_twice_is_refused_and_nothing_of_that_batch_is_kept() -> None:
    registry = Registry()
    registry.register("one", {"a": Code(Kind.INVALID, ru="а.", en="a.")})
    with pytest.raises(ValueError, match="'a' of two is already registered by one"):
        registry.register(
            "two",
            {"b": Code(Kind.CONFLICT, ru="б.", en="b."), "a": Code(Kind.INVALID, ru="", en="")},
        )
    assert set(registry.codes()) == {"a"} and registry.area_of("a") == "one"
    assert "b" not in registry


def test_the_areas_codes_cannot_be_registered_again() -> None:
    from podpiska.catalog.errors import CODES

    with pytest.raises(ValueError, match="already registered by catalog"):
        REGISTRY.register("elsewhere", CODES)
    assert REGISTRY.area_of("unknown_plan") == "catalog"


def test_the_registry_cannot_be_changed_from_outside() -> None:
    with pytest.raises(TypeError):
        REGISTRY.codes()["x"] = Code(Kind.INVALID, ru="", en="")  # type: ignore[index]
