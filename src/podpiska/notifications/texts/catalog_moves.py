"""The texts of catalog moves (the catalog's `migrations:`): the notice before a cut-over
(the Marketplace becomes a subscription, or new prices from a new price list) and the
account moved to a new price list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    as_int,
    join,
)


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(x: Parts, value: Any, fallback: str) -> str:
    """A name stored in a payload as {"ru": ..., "en": ...} (or plain text), quoted."""
    if isinstance(value, Mapping):
        value = value.get(x.lang) or value.get("ru")
    name = str(value) if value else fallback
    return f"«{name}»" if x.ru else f"“{name}”"


def migration_notice(x: Parts) -> Notice:
    """Before a catalog migration's cut-over (catalog `migrations:`): the Marketplace
    becomes a subscription, or the account moves to a new price list."""
    cut_over = x.day(x.p.get("cut_over"))
    when_ru = f"с {cut_over}" if cut_over else "в ближайшее время"
    when_en = f"from {cut_over}" if cut_over else "soon"
    if x.p.get("kind") == "version":
        return _version_notice(x, when_ru, when_en)
    offer = _name(x, x.p.get("add_on_name"), "Маркетплейс" if x.ru else "Marketplace")
    raw = x.p.get("apps_stopping")
    apps = [str(a) for a in raw] if isinstance(raw, list) else []
    more = max(0, (as_int(x.p.get("apps_stopping_count")) or len(apps)) - len(apps))
    raw_features = x.p.get("features_stopping")
    features = [str(f) for f in raw_features] if isinstance(raw_features, list) else []
    until = x.day(x.p.get("transition_until"))
    price, first = x.money(x.p.get("monthly_cost")), x.money(x.p.get("first_time_cost"))
    percent = x.p.get("first_time_percent")
    if x.ru:
        listed = ", ".join(f"«{a}»" for a in apps) + (f" и ещё {more}" if more else "")
        words = {"rest_api": "REST API", "webhooks": "вебхуки"}
        used = " и ".join(words.get(f, f) for f in features)
        return Notice(
            f"Приложения {when_ru} — по подписке {offer}",
            join(
                f"{_first_up(when_ru)} приложения Маркета, REST API и вебхуки на портале "
                f"{x.account} будут работать только с подпиской {offer}. Приложения для переноса "
                "данных и базовые приложения вашего тарифа останутся бесплатными.",
                f"Без подписки перестанут работать: {listed}." if apps else None,
                f"Также перестанут работать {used}: ими пользуются ваши приложения."
                if used
                else None,
                None
                if apps or used
                else "Сейчас на портале нет приложений, которые перестанут работать.",
                f"Уже установленные приложения будут работать до {until} включительно."
                if until and apps
                else None,
                (
                    f"Подписка {offer}"
                    + (f" для тарифа {x.plan}" if x.plan else "")
                    + f": {price} в месяц"
                    + (f", при первой покупке — {first} (−{percent} %)." if first else ".")
                )
                if price
                else None,
            ),
        )
    listed = ", ".join(f"“{a}”" for a in apps) + (f" and {more} more" if more else "")
    words = {"rest_api": "the REST API", "webhooks": "webhooks"}
    used = " and ".join(words.get(f, f) for f in features)
    return Notice(
        f"Apps need the {offer} subscription {when_en}",
        join(
            f"{_first_up(when_en)}, marketplace apps, the REST API and webhooks of account "
            f"{x.account} will work only with the {offer} subscription. Apps that move data in and "
            "the basic apps of your plan stay free.",
            f"Without it these apps stop working: {listed}." if apps else None,
            f"{_first_up(used)} will stop too: your apps use them." if used else None,
            None if apps or used else "No app of the account would stop working now.",
            f"Apps installed already keep working through {until}." if until and apps else None,
            (
                f"The {offer} subscription"
                + (f" for the {x.plan} plan" if x.plan else "")
                + f": {price} a month"
                + (f"; the first time {first} ({percent}% off)." if first else ".")
            )
            if price
            else None,
        ),
    )


def _version_notice(x: Parts, when_ru: str, when_en: str) -> Notice:
    version = x.p.get("to_version") or ""
    at_renewal = x.p.get("mode") == "at_renewal"
    before, after = x.money(x.p.get("monthly_cost_today")), x.money(x.p.get("monthly_cost_after"))
    if x.ru:
        return Notice(
            f"Новые цены {when_ru}",
            join(
                f"{_first_up(when_ru)} портал {x.account} переходит на прайс-лист {version}"
                + (": новые цены — с первого продления после этой даты." if at_renewal else ": "
                   "новые цены — со следующего счёта."),
                f"Стоимость в месяц по прейскуранту: сейчас {before}, будет {after}."
                if before and after
                else None,
            ),
        )  # fmt: skip
    return Notice(
        f"New prices {when_en}",
        join(
            f"{_first_up(when_en)}, account {x.account} moves to price list {version}"
            + (": the new prices apply from the first renewal after that day." if at_renewal
               else ": the new prices apply from the next invoice."),
            f"List price per month: {before} now, {after} then." if before and after else None,
        ),
    )  # fmt: skip


def version_moved(x: Parts) -> Notice:
    version = x.p.get("to_version") or ""
    if x.ru:
        return Notice(
            f"Портал переведён на прайс-лист {version}".strip(),
            f"Подписка портала {x.account} переведена на прайс-лист {version}: новые цены "
            "действуют со следующего счёта. Оплаченный период не меняется.",
        )
    return Notice(
        f"Account moved to price list {version}".strip(),
        f"The subscription of account {x.account} moved to price list {version}: the new "
        "prices apply from the next invoice. The paid term does not change.",
    )
