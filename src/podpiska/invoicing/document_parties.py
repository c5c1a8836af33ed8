"""The parties a document was issued with, kept on its `documents` row (`parties`, JSON):
the seller (the settings' PODPISKA_VENDOR_*) and the buyer (the account's requisites) as
its PDF first showed them, and the buyer's state contract id. Its PDF and its ФНС XML file
are made from them ever after, so the two always agree and a later change of the settings
or of the account never reaches an issued document ("Stored once", docs/documents.md).

The one place a `Party` becomes JSON and back: every field by name, a proxy's date as ISO
text; a snapshot of another shape is refused (ValueError), never guessed at.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from podpiska.ports import (
    AdvanceInvoiceData,
    CorrectionData,
    DocumentData,
    Party,
    Proxy,
    UpdData,
)

VERSION = 1  # the snapshot's shape; a new shape reads the old ones

_TEXT_FIELDS = tuple(
    field.name for field in dataclasses.fields(Party) if field.name not in ("proxy", "tax_system")
)

Contents = TypeVar("Contents", bound=DocumentData | UpdData | AdvanceInvoiceData | CorrectionData)


@dataclass(frozen=True, slots=True)
class Parties:
    """Who a document is between, as it was issued."""

    seller: Party
    buyer: Party
    state_contract_id: str | None = None


def _party_json(party: Party) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(party, name) for name in _TEXT_FIELDS}
    out["tax_system"] = party.tax_system
    proxy = party.proxy
    out["proxy"] = (
        None
        if proxy is None
        else {
            "signer": proxy.signer,
            "position": proxy.position,
            "number": proxy.number,
            "issued_on": proxy.issued_on.isoformat(),
        }
    )
    return out


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"parties: {name} is not text")


def _party(value: object, who: str) -> Party:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError(f"parties: the {who} is not a party")
    fields = {name: _text(value.get(name), f"{who}.{name}") for name in _TEXT_FIELDS}
    fields["name"] = value["name"]
    proxy = value.get("proxy")
    made: Proxy | None = None
    if proxy is not None:
        if not isinstance(proxy, dict):
            raise ValueError(f"parties: the {who}'s proxy is not a proxy")
        made = Proxy(
            signer=str(proxy["signer"]),
            position=str(proxy["position"]),
            number=str(proxy["number"]),
            issued_on=date.fromisoformat(str(proxy["issued_on"])),
        )
    tax_system = value.get("tax_system", "osno")
    if not isinstance(tax_system, str):
        raise ValueError(f"parties: the {who}'s tax system is not text")
    return Party(**fields, proxy=made, tax_system=tax_system)  # type: ignore[arg-type]


def parties_json(parties: Parties) -> dict[str, Any]:
    """The snapshot as stored in `documents.parties`."""
    return {
        "version": VERSION,
        "seller": _party_json(parties.seller),
        "buyer": _party_json(parties.buyer),
        "state_contract_id": parties.state_contract_id,
    }


def parties_from_json(value: dict[str, Any]) -> Parties:
    """The snapshot stored in `documents.parties`; ValueError for one of another shape."""
    if not isinstance(value, dict) or value.get("version") != VERSION:
        raise ValueError("parties: an unknown snapshot")
    return Parties(
        seller=_party(value.get("seller"), "seller"),
        buyer=_party(value.get("buyer"), "buyer"),
        state_contract_id=_text(value.get("state_contract_id"), "state_contract_id"),
    )


def parties_of(data: DocumentData | UpdData | AdvanceInvoiceData | CorrectionData) -> Parties:
    """The parties a document's contents show."""
    return Parties(seller=data.seller, buyer=data.buyer, state_contract_id=data.state_contract_id)


def with_parties(data: Contents, parties: Parties) -> Contents:
    """The contents with the stored parties in place of today's."""
    return dataclasses.replace(
        data,
        seller=parties.seller,
        buyer=parties.buyer,
        state_contract_id=parties.state_contract_id,
    )
