"""The texts of catalog moves (the catalog's `migrations:`): the notice before a cut-over
(the Marketplace becomes a subscription, or new prices from a new price list) and the
account moved to a new price list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podpiska.core.domain.text import Text
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
    return x.q(str(value) if value else fallback)


# What a marketplace app uses that the subscription will sell, in words.
_FEATURES: dict[str, Text] = {
    "rest_api": Text("REST API", "the REST API"),
    "webhooks": Text("вебхуки", "webhooks"),
}


def migration_notice(x: Parts) -> Notice:
    """Before a catalog migration's cut-over (catalog `migrations:`): the Marketplace
    becomes a subscription, or the account moves to a new price list."""
    cut_over = x.day(x.p.get("cut_over"))
    when = (
        x.t(f"с {cut_over}", f"from {cut_over}") if cut_over else x.t("в ближайшее время", "soon")
    )
    if x.p.get("kind") == "version":
        return _version_notice(x, when)
    offer = _name(x, x.p.get("add_on_name"), x.t("Маркетплейс", "Marketplace"))
    raw = x.p.get("apps_stopping")
    apps = [str(a) for a in raw] if isinstance(raw, list) else []
    more = max(0, (as_int(x.p.get("apps_stopping_count")) or len(apps)) - len(apps))
    raw_features = x.p.get("features_stopping")
    features = [str(f) for f in raw_features] if isinstance(raw_features, list) else []
    until = x.day(x.p.get("transition_until"))
    price, first = x.money(x.p.get("monthly_cost")), x.money(x.p.get("first_time_cost"))
    percent = x.p.get("first_time_percent")
    listed = ", ".join(x.q(a) for a in apps) + (
        x.t(f" и ещё {more}", f" and {more} more") if more else ""
    )
    used = x.t(" и ", " and ").join(
        _FEATURES[f].get(x.lang) if f in _FEATURES else f for f in features
    )
    return Notice(
        x.t(
            f"Приложения {when} — по подписке {offer}",
            f"Apps need the {offer} subscription {when}",
        ),
        join(
            x.t(
                f"{_first_up(when)} приложения Маркета, REST API и вебхуки на портале "
                f"{x.account} будут работать только с подпиской {offer}. Приложения для "
                "переноса данных и базовые приложения вашего тарифа останутся бесплатными.",
                f"{_first_up(when)}, marketplace apps, the REST API and webhooks of account "
                f"{x.account} will work only with the {offer} subscription. Apps that move "
                "data in and the basic apps of your plan stay free.",
            ),
            x.t(
                f"Без подписки перестанут работать: {listed}.",
                f"Without it these apps stop working: {listed}.",
            )
            if apps
            else None,
            x.t(
                f"Также перестанут работать {used}: ими пользуются ваши приложения.",
                f"{_first_up(used)} will stop too: your apps use them.",
            )
            if used
            else None,
            None
            if apps or used
            else x.t(
                "Сейчас на портале нет приложений, которые перестанут работать.",
                "No app of the account would stop working now.",
            ),
            x.t(
                f"Уже установленные приложения будут работать до {until} включительно.",
                f"Apps installed already keep working through {until}.",
            )
            if until and apps
            else None,
            (
                x.t(f"Подписка {offer}", f"The {offer} subscription")
                + (x.t(f" для тарифа {x.plan}", f" for the {x.plan} plan") if x.plan else "")
                + x.t(f": {price} в месяц", f": {price} a month")
                + (
                    x.t(
                        f", при первой покупке — {first} (−{percent} %).",
                        f"; the first time {first} ({percent}% off).",
                    )
                    if first
                    else "."
                )
            )
            if price
            else None,
        ),
    )


def _version_notice(x: Parts, when: str) -> Notice:
    version = x.p.get("to_version") or ""
    before, after = x.money(x.p.get("monthly_cost_today")), x.money(x.p.get("monthly_cost_after"))
    return Notice(
        x.t(f"Новые цены {when}", f"New prices {when}"),
        join(
            x.t(
                f"{_first_up(when)} портал {x.account} переходит на прайс-лист {version}",
                f"{_first_up(when)}, account {x.account} moves to price list {version}",
            )
            + (
                x.t(
                    ": новые цены — с первого продления после этой даты.",
                    ": the new prices apply from the first renewal after that day.",
                )
                if x.p.get("mode") == "at_renewal"
                else x.t(
                    ": новые цены — со следующего счёта.",
                    ": the new prices apply from the next invoice.",
                )
            ),
            x.t(
                f"Стоимость в месяц по прейскуранту: сейчас {before}, будет {after}.",
                f"List price per month: {before} now, {after} then.",
            )
            if before and after
            else None,
        ),
    )


def version_moved(x: Parts) -> Notice:
    version = x.p.get("to_version") or ""
    return Notice(
        x.t(
            f"Портал переведён на прайс-лист {version}", f"Account moved to price list {version}"
        ).strip(),
        x.t(
            f"Подписка портала {x.account} переведена на прайс-лист {version}: новые цены "
            "действуют со следующего счёта. Оплаченный период не меняется.",
            f"The subscription of account {x.account} moved to price list {version}: the new "
            "prices apply from the next invoice. The paid term does not change.",
        ),
    )
