"""The registry of tables: imports every area's `models.py`, so `Base.metadata` holds every
table of Podpiska once this module is imported. Alembic (`podpiska.migrate`), the backup and
the tests read the whole schema from here; an area imports only its own tables and those of
the areas below it.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import podpiska.accounts.models
import podpiska.catalog.models
import podpiska.core.models
import podpiska.entitlements.license_files.models
import podpiska.entitlements.models
import podpiska.invoicing.models
import podpiska.notifications.models
import podpiska.payments.bank.models
import podpiska.payments.models
import podpiska.subscriptions.models
from podpiska.core.db.base import Base

AREAS = (
    podpiska.core.models,
    podpiska.catalog.models,
    podpiska.accounts.models,
    podpiska.invoicing.models,
    podpiska.subscriptions.models,
    podpiska.payments.models,
    podpiska.payments.bank.models,
    podpiska.entitlements.license_files.models,
    podpiska.entitlements.models,
    podpiska.notifications.models,
)

metadata: MetaData = Base.metadata
