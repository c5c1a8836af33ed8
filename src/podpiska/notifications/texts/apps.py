"""The texts about what an account runs beyond its plan: an app installed or removed, a
free trial of an add-on started, and a license file issued for an on-premise installation.
"""

from __future__ import annotations

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    as_date,
    as_int,
    format_date,
    join,
)


def license_issued(x: Parts) -> Notice:
    serial = x.p.get("serial") or "—"
    plan = x.plan or "—"
    users = as_int(x.p.get("users"))
    paid = as_date(x.p.get("paid_through"))
    grace = as_date(x.p.get("grace_until"))
    key = x.p.get("key_id") or "—"
    return Notice(
        x.t(f"Файл лицензии {serial}", f"License file {serial}"),
        join(
            x.t(
                f"Для портала {x.account} выпущен файл лицензии {serial}: тариф {plan}",
                f"License file {serial} was issued for account {x.account}: plan {plan}",
            )
            + (x.t(f", пользователей: {users}", f", {users} users") if users is not None else "")
            + (
                x.t(
                    f", оплачено по {format_date(paid, 'ru')}",
                    f", paid through {format_date(paid, 'en')}",
                )
                if paid
                else ""
            )
            + (
                x.t(
                    f", работает до {format_date(grace, 'ru')} с льготным периодом",
                    f", valid until {format_date(grace, 'en')} with the grace period",
                )
                if grace
                else ""
            )
            + ".",
            x.t(
                "Файл во вложении: установите его вместо прежнего в вашей локальной "
                "установке. Он подписан ключом вендора "
                f"{key} и проверяется без подключения к интернету.",
                "The file is attached: install it in place of the previous one in your "
                f"on-premise installation. It is signed with the vendor's key {key} and is "
                "verified offline.",
            ),
        ),
    )


def app_notice(x: Parts, installed: bool) -> Notice:
    app = x.name(x.p.get("app") or x.t("приложение", "app"))
    if installed:
        return Notice(
            x.t(f"Приложение {app} установлено", f"App {app} installed"),
            x.t(
                f"На портал {x.account} установлено приложение {app}. Удалить его можно в "
                "разделе «Маркетплейс».",
                f"App {app} was installed on account {x.account}. You can remove it in the "
                "Marketplace section.",
            ),
        )
    return Notice(
        x.t(f"Приложение {app} удалено", f"App {app} removed"),
        x.t(
            f"С портала {x.account} удалено приложение {app}: оно больше не работает с "
            "данными портала.",
            f"App {app} was removed from account {x.account}: it no longer works with the "
            "account's data.",
        ),
    )


def trial_started(x: Parts) -> Notice:
    offer = x.name(x.p.get("add_on") or "marketplace")
    last = x.day(x.p.get("last_day"))
    return Notice(
        x.t(f"Пробный период {offer} начался", f"Your {offer} trial has started"),
        join(
            x.t(
                f"Для портала {x.account} включён бесплатный пробный период подписки {offer}",
                f"A free trial of the {offer} subscription is on for account {x.account}",
            )
            + (x.t(f": до {last} включительно.", f": through {last} inclusive.") if last else "."),
            x.t(
                "После него подписка не продлевается сама: чтобы пользоваться ею дальше, "
                "подключите её в разделе «Маркетплейс».",
                "It does not turn into a paid subscription by itself: to keep it, add it in "
                "the Marketplace section.",
            ),
        ),
    )
