"""The buyer's requisites form, shared by the back office's account page and the portal's
settings: the values to show, and a change through `accounts.change_account` (the same
use-case as the API's `PATCH /api/v1/accounts/{id}`) whose refusal is said next to its
field, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from podpiska.accounts import accounts
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.text import Text
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.i18n import current_language

FIELDS = accounts.REQUISITES  # kpp, legal_address, ogrn, state_contract_id, edo_id, closing_form
# The form's inputs are bounded a little above the service's limits: the service says why.
MAX_INPUT = 1000


@dataclass(frozen=True, slots=True)
class RequisitesForm:
    """What the form shows: the values (the account's, or those just refused) and the
    problem of each refused field, in words."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # a refusal that names no field of the form


def shown(account: Any) -> RequisitesForm:
    return RequisitesForm({name: getattr(account, name) or "" for name in FIELDS})


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def change(
    db: Session,
    ctx: Context,
    *,
    account_id: int,
    given: dict[str, str],
    actor: str,
) -> RequisitesForm | None:
    """Change the requisites to `given` (an empty one clears it). None when saved; else the
    form again with the values given and the refusal next to its field. An account that
    does not exist is not a form's problem: its error goes on (404)."""
    values = {name: given.get(name, "")[:MAX_INPUT] for name in FIELDS}
    # A form without the closing form's choice (an older page) leaves it as it is.
    changes = {
        name: value for name, value in values.items() if name != "closing_form" or name in given
    }
    try:
        accounts.change_account(
            db, account_id=account_id, requisites=changes, actor=actor, clock=ctx.clock
        )
    except DomainError as error:
        if error.code != "invalid_field":
            raise
        lang = current_language()
        name = str(error.details.get("field", ""))
        ru, en = error.details.get("problem_ru"), error.details.get("problem_en")
        if name in FIELDS and isinstance(ru, str) and isinstance(en, str):
            problem = Text(ru, en).get(lang)
            return RequisitesForm(values, {name: _upper_first(problem) + "."})
        return RequisitesForm(values, problem=error.message(lang))
    return None
