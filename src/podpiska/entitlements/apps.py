"""Installing a marketplace app: an entitlement first (`apps.install` with that app), so an
account never installs what it may not use; the installation itself is written by
`subscriptions.apps.record_install`. (The registry is `catalog.apps`; removing an app,
its use and the trial are `subscriptions.apps`.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.apps import get_app
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import get_or_404
from podpiska.entitlements.decisions import decide
from podpiska.ports import Clock
from podpiska.subscriptions.apps import record_install
from podpiska.subscriptions.models import AppInstallation


def install_app(
    session: Session, *, account_id: int, app_code: str, actor: str, clock: Clock
) -> AppInstallation:
    """Install an app, if the account may (`apps.install` with that app); installing again
    changes nothing."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        app = get_app(session, app_code)
        if app.status != "published":
            raise DomainError("unknown_app", app=app_code)
        decision = decide(session, account, "apps.install", clock, app=app)
        if not decision.allowed:
            raise DomainError(
                "not_entitled",
                reason=decision.reason,
                message={"ru": decision.message_ru, "en": decision.message_en},
            )
        return record_install(session, account, app, actor=actor, clock=clock)
