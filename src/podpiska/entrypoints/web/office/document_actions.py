"""The back office sending a closing document again by e-mail with its PDF
(`POST /office/documents/{kind}/{source_id}/resend`), from the account page's documents
and from the rows of `/office/documents`: `notifications.document_resend.resend_document`,
as `POST /api/v1/documents/{kind}/{source_id}/resend`. Money-neutral: both vendor roles
may. The person is the actor of the audit row; a refusal (a bad address, no such document
yet) is said on the page it came from, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep, http_status
from podpiska.entrypoints.web.i18n import _, current_language
from podpiska.entrypoints.web.office.form_ids import positive_id
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.invoicing import document_lookup
from podpiska.invoicing.document_lookup import DocumentRow
from podpiska.notifications.document_resend import RESENT_KINDS, resend_document

router = APIRouter(prefix="/office")


def closing_documents(db: Session, *, account_id: int) -> list[DocumentRow]:
    """The account's documents but its invoices (acts, УПД, счета-фактуры, УКД, credit
    notes), newest first: the account page's list, each with its resend form."""
    rows = document_lookup.account_documents(db, account_id=account_id)
    return [row for row in rows if row.kind in RESENT_KINDS]


def _target(back: str) -> str:
    """Back to the page the form was on: an account's page or the documents list."""
    if back.startswith(("/office/accounts/", "/office/documents")) and "//" not in back:
        return back[:500]
    return "/office/documents"


@router.post("/documents/{kind}/{source_id}/resend", include_in_schema=False)
def document_resend(
    request: Request,
    kind: str,
    source_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    email: Annotated[str, Form()] = "",
    account_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/office/documents",
) -> Response:
    """The document's e-mail with its PDF, to `email` or the account's. From an account's
    page (`account_id`), a document of another account is not found; a malformed
    `account_id` is said on a 422 page, nothing sent."""
    if kind not in RESENT_KINDS:
        raise HTTPException(404)
    scope = Scope.vendor()
    if account_id.strip():
        try:
            scope = Scope.account(positive_id(account_id))
        except ValueError:  # a malformed id (`form_ids`): said, nothing sent; unknown: 404
            problem = _("The form names no valid account: reload the page and try again.")
            values = {"status": 422, "title": _("Check what you entered"), "message": problem}
            return render(request, "error.html", values, status_code=422)
    try:
        resent = resend_document(
            db,
            kind=kind,
            source_id=source_id,
            email=email[:320] or None,
            scope=scope,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        if http_status(error) == 404 and error.code == "not_found":
            raise
        flash(request, error.message(current_language()), "error")
        return RedirectResponse(_target(back), 303)
    flash(
        request,
        _("The document will be sent again to {email} with its PDF.").format(
            email=resent.delivery.target
        ),
        "success",
    )
    return RedirectResponse(_target(back), 303)
