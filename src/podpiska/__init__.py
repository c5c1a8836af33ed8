"""Podpiska: subscription licensing and billing for vendors of cloud business software.

Python runs this module before any module of the package, so every area's error codes are
registered before a `DomainError` can be raised anywhere (API, web, CLI, worker, tests).
Each `errors.py` imports `core.domain.errors` only; the house's contracts hold.
"""

from podpiska.accounts import errors as _accounts_errors  # noqa: F401
from podpiska.catalog import errors as _catalog_errors  # noqa: F401
from podpiska.core import errors as _core_errors  # noqa: F401  (the order does not matter)
from podpiska.entitlements import errors as _entitlements_errors  # noqa: F401
from podpiska.invoicing import errors as _invoicing_errors  # noqa: F401
from podpiska.payments import errors as _payments_errors  # noqa: F401
from podpiska.subscriptions import errors as _subscriptions_errors  # noqa: F401

__version__ = "0.1.0"
