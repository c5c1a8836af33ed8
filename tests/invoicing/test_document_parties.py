"""The parties a document was issued with, as JSON and back: every field, the proxy's
date, a snapshot of another shape refused."""

from __future__ import annotations

import json
from datetime import date

import pytest

from podpiska.invoicing.document_parties import Parties, parties_from_json, parties_json
from podpiska.ports import Party, Proxy

SELLER = Party(
    name="ООО «Облачные решения»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    bank="ПАО Сбербанк",
    bik="044525225",
    correspondent_account="30101810400000000225",
    account="40702810900000000001",
    director="Иванов И. И.",
    accountant="Петрова П. П.",
    ogrn="1027700132195",
    postal_address="117312, г. Москва, а/я 1",
    director_position="Генеральный директор",
    accountant_position="Главный бухгалтер",
    proxy=Proxy(
        signer="Сидоров С. С.", position="Менеджер", number="12", issued_on=date(2026, 1, 9)
    ),
    tax_system="usn",
)
BUYER = Party(name="ООО «Ромашка»", inn="7728168971", kpp=None, address="г. Казань")


def test_parties_go_to_json_and_back() -> None:
    parties = Parties(seller=SELLER, buyer=BUYER, state_contract_id="1770708389326000001")
    stored = json.loads(json.dumps(parties_json(parties)))  # as the JSON column keeps it
    assert parties_from_json(stored) == parties
    assert parties_from_json(parties_json(Parties(seller=BUYER, buyer=BUYER))).seller == BUYER


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"version": 2, "seller": {}, "buyer": {}},
        {"version": 1, "seller": {"name": "A"}, "buyer": {"inn": "1"}},
        {"version": 1, "seller": {"name": "A", "inn": 7707083893}, "buyer": {"name": "B"}},
    ],
)
def test_a_snapshot_of_another_shape_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="parties"):
        parties_from_json(bad)
