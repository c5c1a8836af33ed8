"""One JSON shape for a quote, shared by the CLI's `--json` and the REST API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from podpiska.catalog.domain.pricing import Quote
from podpiska.core.domain.money import plain_decimal, round_money


def amount(value: Decimal) -> str:
    """An amount as a string with two decimals: "43092.00"."""
    return f"{round_money(value):.2f}"


def quote_json(quote: Quote, lang: str = "ru") -> dict[str, Any]:
    vat = quote.vat
    return {
        "currency": quote.currency,
        "catalog_version": quote.catalog_version,
        "lines": [
            {
                "code": line.code,
                "description": line.description(lang),
                "quantity": line.quantity,
                "months": line.months,
                "unit_price": amount(line.unit_price),
                "discount_percent": plain_decimal(line.discount_percent),
                "amount": amount(line.amount),
                "explain": line.explain(quote.currency, lang),
            }
            for line in quote.lines
        ],
        "subtotal": amount(quote.subtotal),
        "discount": amount(quote.discount),
        "total": amount(quote.total),
        "vat": {
            "mode": vat.mode.value if vat else "mixed",
            "rate": plain_decimal(vat.rate) if vat else None,
            "amount": amount(quote.vat_amount),
        },
    }
