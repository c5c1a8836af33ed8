"""Templates: one Jinja environment with the i18n extension, the shared layout's context
(who, navigation by role, language, CSRF token, flash messages) and `render()`.

A page is `render(request, "portal/subscription.html", {"overview": ...})`; the template
extends `base.html` and fills `{% block content %}`. Texts are `{{ _("...") }}` or
`{% trans %}`; money and dates go through the filters of `formatting.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from podpiska.accounts.people import Person
from podpiska.entitlements.domain import action_label
from podpiska.entrypoints.web import formatting, labels
from podpiska.entrypoints.web.deps import csrf_token, current_person
from podpiska.entrypoints.web.i18n import (
    LANGUAGES,
    N_,
    choose_language,
    current_language,
    gettext,
    ngettext,
    use_language,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
PRODUCT = "Podpiska"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    _join_full_stops(env)
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        state_label=lambda code: labels.label(labels.STATES, code),
        state_explained=lambda code: labels.label(labels.STATE_EXPLAINED, code),
        state_tone=lambda code: labels.STATE_TONE.get(code, "muted"),
        edition_label=lambda code: labels.label(labels.EDITIONS, code),
        invoice_status_label=lambda code: labels.label(labels.INVOICE_STATUSES, code),
        invoice_kind_label=lambda code: labels.label(labels.INVOICE_KINDS, code),
        document_kind_label=lambda code: labels.label(labels.DOCUMENT_KINDS, code),
        payment_method_label=lambda code: labels.label(labels.PAYMENT_METHODS, code),
        decline_reason=lambda code: labels.decline_reason(code, current_language()),
        role_label=lambda code: labels.label(labels.ROLES, code),
        action_label=lambda action: action_label(action, current_language()),
    )
    env.globals["PRODUCT"] = PRODUCT
    env.globals["LANGUAGES"] = LANGUAGES
    return env


def _join_full_stops(env: Environment) -> None:
    """Every translated text of a template, once its values are in (`_()`, `ngettext()`,
    `{% trans %}`), has one full stop where a value ending with an abbreviation ends the
    sentence ("Оплачено до %(day)s." with `18 апреля 2027 г.`)."""
    made_gettext: Callable[..., str] = env.globals["gettext"]  # type: ignore[assignment]
    made_ngettext: Callable[..., str] = env.globals["ngettext"]  # type: ignore[assignment]

    @pass_context
    def gettext_(context: Any, message: str, **variables: Any) -> str:
        return formatting.one_full_stop(made_gettext(context, message, **variables))

    @pass_context
    def ngettext_(context: Any, singular: str, plural: str, n: int, **variables: Any) -> str:
        return formatting.one_full_stop(made_ngettext(context, singular, plural, n, **variables))

    env.globals.update(gettext=gettext_, _=gettext_, ngettext=ngettext_)


# --- flash messages -----------------------------------------------------------------------


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once, on the next page rendered (kinds: info, success, error)."""
    text = formatting.one_full_stop(message)
    request.session.setdefault("flash", []).append({"kind": kind, "text": text})


def _take_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop("flash", None) or [])


# --- navigation by role -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str  # a message id (N_), translated when rendered
    href: str
    roles: frozenset[str]


VENDORS = frozenset({"vendor_admin", "vendor_operator"})
CUSTOMER = frozenset({"account_admin"})

# The back office and the portal add their pages here (in order); `{account}` is the
# person's own account id.
NAVIGATION: list[NavItem] = [
    NavItem(N_("My subscription"), "/portal/{account}", CUSTOMER),
    NavItem(N_("Renew"), "/portal/{account}/renew", CUSTOMER),
    NavItem(N_("Change tariff"), "/portal/{account}/change", CUSTOMER),
    NavItem(N_("Payment settings"), "/portal/{account}/payment-methods", CUSTOMER),
    NavItem(N_("Documents"), "/portal/{account}/documents", CUSTOMER),
    NavItem(N_("Marketplace"), "/portal/{account}/marketplace", CUSTOMER),
    NavItem(N_("Tariff advisor"), "/portal/{account}/advisor", CUSTOMER),
    NavItem(N_("Dashboard"), "/office", VENDORS),
    NavItem(N_("Accounts"), "/office/accounts", VENDORS),
    NavItem(N_("Catalog"), "/office/catalog", VENDORS),
    NavItem(N_("Bank statements"), "/office/bank", VENDORS),
    NavItem(N_("Invoices"), "/office/invoices", VENDORS),
    NavItem(N_("Payments"), "/office/payments", VENDORS),
    NavItem(N_("Documents"), "/office/documents", VENDORS),
    NavItem(N_("Deliveries"), "/office/deliveries", VENDORS),
    NavItem(N_("Test clocks"), "/office/test-clocks", VENDORS),
]


def navigation(person: Person | None, path: str) -> list[dict[str, Any]]:
    if person is None:
        return []
    items = []
    for item in NAVIGATION:
        if person.role not in item.roles:
            continue
        href = item.href.format(account=person.account_id or 0)
        items.append({"label": gettext(item.label), "href": href, "current": False})
    # The current entry is the longest href the path is under (/office/catalog is not
    # the dashboard's /office, /portal/1/advisor is not /portal/1).
    hrefs = [str(i["href"]) for i in items]
    under = [h for h in hrefs if path == h or path.startswith(h + "/")]
    if under:
        items[hrefs.index(max(under, key=len))]["current"] = True
    return items


# --- rendering ------------------------------------------------------------------------------


def render(
    request: Request,
    template: str,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page in the request's language, with the layout's context."""
    lang = choose_language(request)
    use_language(lang)
    person = current_person(request)
    context: dict[str, Any] = {
        "request": request,
        "person": person,
        "lang": current_language(),
        "csrf_token": csrf_token(request),
        "flashes": _take_flashes(request),
        "nav": navigation(person, request.url.path),
        "path": request.url.path,
        "query": request.url.query,
    }
    context.update(values or {})
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers=headers)
