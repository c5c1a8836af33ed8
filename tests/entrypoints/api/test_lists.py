"""The lists of accounts, subscriptions and invoices through the API, on SQLite and on
PostgreSQL: paging visits every row once, each filter finds what it names, an account's key
lists only its own rows, and a bad filter answers 422 with its code."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription

PROJECT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))

Headers = dict[str, str]


class World:
    """Five accounts: three ordered (standard, basic, standard; the first paid), two not."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        settings = Settings(
            env="test",
            database_url=db_url,
            catalog=PROJECT / "catalogs" / "crm-shop.yaml",
            cache_dir=tmp_path / "cache",
            mailbox_dir=tmp_path / "mail",
        )
        self.context: Context = build_context(settings=settings, clock=FixedClock(START))
        with self.context.session() as db:
            load_catalog_document(db, path=settings.catalog, actor="test", clock=self.context.clock)
            _, key = create_api_key(db, role="vendor_admin", actor="test", clock=self.context.clock)
        self.client = TestClient(create_app(self.context))
        self.auth: Headers = {"Authorization": f"Bearer {key}"}
        self.clock_id = self.post("/test-clocks", {"name": "lists", "now": START.isoformat()}, 201)[
            "id"
        ]
        self.accounts = [
            self.post("/accounts", body, 201)["id"]
            for body in (
                {"name": "ООО «Ромашка»", "admin_email": "Admin@Romashka.ru", "inn": "7707083893"},
                {"name": "Acme Ltd", "admin_email": "boss@acme.io", "edition": "on_premise"},
                {"name": "Acme Holding", "admin_email": "it@acme-h.io"},
                {"name": "Лютик", "admin_email": "l@lutik.ru", "test_clock_id": self.clock_id},
                {"name": "100% Pure", "admin_email": "p@pure.io"},
            )
        ]
        self.orders = [
            self.post(f"/accounts/{account}/subscriptions", {"plan": plan, "months": 12}, 201)
            for account, plan in zip(
                self.accounts[:3], ("standard", "basic", "standard"), strict=True
            )
        ]
        first = self.orders[0]["invoice"]
        self.post(
            f"/invoices/{first['id']}/payments",
            {"amount": first["total"], "method": "bank_transfer"},
            201,
        )

    def post(self, path: str, body: dict[str, Any], status: int) -> Any:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.auth)
        assert response.status_code == status, response.text
        return response.json()

    def get(
        self, path: str, *, expect: int = 200, auth: Headers | None = None, **query: Any
    ) -> Any:
        response = self.client.get(
            f"/api/v1{path}", params=query, headers=self.auth if auth is None else auth
        )
        assert response.status_code == expect, response.text
        return response.json()

    def ids(self, path: str, **query: Any) -> list[int]:
        return [row["id"] for row in self.get(path, **query)["data"]]

    def key_of(self, account_id: int) -> Headers:
        with self.context.session() as db:
            _, key = create_api_key(
                db,
                role="account_admin",
                account_id=account_id,
                actor="test",
                clock=self.context.clock,
            )
        return {"Authorization": f"Bearer {key}"}


def _q(query: dict[str, Any]) -> dict[str, Any]:
    """Query parameters whose names are not identifiers (`metadata[key]`)."""
    return query


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    return World(db_url, tmp_path)


@pytest.mark.parametrize("path", ["/accounts", "/subscriptions", "/invoices"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paging_with_a_small_limit_visits_every_row_once(
    world: World, path: str, order: str
) -> None:
    every = world.ids(path, limit=1000)
    seen: list[int] = []
    after = 0
    while True:
        page = world.get(path, limit=2, after=after, order=order)
        seen += [row["id"] for row in page["data"]]
        assert len(page["data"]) <= 2
        if not page["has_more"]:
            break
        after = page["next_after"]
        assert after == page["data"][-1]["id"]
    assert seen == (sorted(every) if order == "asc" else sorted(every, reverse=True))
    assert len(seen) == len(set(seen)) >= 3
    assert world.get(path, after=max(every))["data"] == []
    assert world.get(path, after=max(every))["next_after"] is None


def test_account_filters(world: World) -> None:
    romashka, acme, holding, lutik, pure = world.accounts
    assert world.ids("/accounts") == world.accounts
    assert world.ids("/accounts", name="acme") == [acme, holding]
    assert world.ids("/accounts", name="ACME h") == [holding]
    assert world.ids("/accounts", name="ltd") == []  # a prefix, not a substring
    assert world.ids("/accounts", name="ооо") == [romashka]
    assert world.ids("/accounts", name="лют") == [lutik]
    assert world.ids("/accounts", name="ООО") == [romashka]
    assert world.ids("/accounts", name="100%") == [pure]  # % is a character, not a wildcard
    assert world.ids("/accounts", name="1%") == []
    assert world.ids("/accounts", inn="7707083893") == [romashka]
    assert world.ids("/accounts", inn="770708389") == []
    assert world.ids("/accounts", email="admin@romashka.RU") == [romashka]
    assert world.ids("/accounts", email="romashka.ru") == []
    assert world.ids("/accounts", state="active") == [romashka]
    assert world.ids("/accounts", state="pending") == [acme, holding]
    assert world.ids("/accounts", state="none") == [lutik, pure]
    assert world.ids("/accounts", state="cancelled") == []
    assert world.ids("/accounts", plan="standard") == [romashka, holding]
    assert world.ids("/accounts", plan="standard", state="pending") == [holding]
    assert world.ids("/accounts", edition="on_premise") == [acme]
    assert world.ids("/accounts", test_clock=world.clock_id) == [lutik]
    assert world.ids("/accounts", created_from=START.isoformat()) == world.accounts
    assert world.ids("/accounts", created_to=START.isoformat()) == []
    assert world.ids("/accounts", created_from="2026-11-22") == world.accounts  # naive: UTC
    assert world.ids("/accounts", created_from="2026-11-22T07:00:01") == []
    assert world.ids("/accounts", created_to="2026-11-23") == world.accounts
    row = world.get("/accounts", inn="7707083893")["data"][0]
    assert (row["state"], row["plan"], row["subscription_id"]) == (
        "active",
        "standard",
        world.orders[0]["subscription"]["id"],
    )
    assert world.get("/accounts", state="none")["data"][0]["plan"] is None


def test_subscription_filters(world: World) -> None:
    romashka, acme, *_ = world.accounts
    subs = [o["subscription"]["id"] for o in world.orders]
    assert world.ids("/subscriptions") == subs
    assert world.ids("/subscriptions", account_id=acme) == [subs[1]]
    assert world.ids("/subscriptions", state="active") == [subs[0]]
    assert world.ids("/subscriptions", state="pending", plan="standard") == [subs[2]]
    assert world.ids("/subscriptions", plan="basic") == [subs[1]]
    assert world.get("/subscriptions", account_id=romashka)["data"][0]["status"] == "active"


def test_invoice_filters(world: World) -> None:
    acme = world.accounts[1]
    invoices = [o["invoice"] for o in world.orders]
    ids = [i["id"] for i in invoices]
    assert world.ids("/invoices") == ids
    assert world.ids("/invoices", account_id=acme) == [ids[1]]
    assert world.ids(f"/accounts/{acme}/invoices") == [ids[1]]
    assert world.ids(f"/accounts/{acme}/invoices", status="paid") == []
    assert world.ids("/invoices", subscription_id=world.orders[2]["subscription"]["id"]) == [ids[2]]
    assert world.ids("/invoices", status="paid") == [ids[0]]
    assert world.ids("/invoices", status="issued") == ids[1:]
    assert world.ids("/invoices", kind="order") == ids
    assert world.ids("/invoices", kind="renewal") == []
    assert world.ids("/invoices", number=invoices[1]["number"]) == [ids[1]]
    day = invoices[0]["issued_on"]
    assert world.ids("/invoices", issued_from=day, issued_to=day) == ids
    assert world.ids("/invoices", issued_from="2030-01-01") == []
    assert world.ids("/invoices", issued_to="2020-01-01") == []
    row = world.get("/invoices", status="paid")["data"][0]
    assert row["amount_paid"] == row["total"] == invoices[0]["total"]


def test_an_accounts_key_lists_only_its_own_rows(world: World) -> None:
    romashka, acme, *_ = world.accounts
    own = world.key_of(acme)
    assert [r["id"] for r in world.get("/accounts", auth=own)["data"]] == [acme]
    assert world.get("/accounts", auth=own, name="ООО")["data"] == []
    subs = world.get("/subscriptions", auth=own)["data"]
    assert [s["account_id"] for s in subs] == [acme]
    # Naming another account answers as reading it would: 404 (as GET /payments does).
    other = world.get("/subscriptions", auth=own, account_id=romashka, expect=404)
    assert other["error"]["code"] == "not_found"
    invoices = world.get("/invoices", auth=own)["data"]
    assert [i["account_id"] for i in invoices] == [acme]
    other = world.get("/invoices", auth=own, account_id=romashka, expect=404)
    assert other["error"]["code"] == "not_found"
    assert len(world.get(f"/accounts/{acme}/invoices", auth=own)["data"]) == 1
    refused = world.get(f"/accounts/{romashka}/invoices", expect=404, auth=own)
    assert refused["error"]["code"] == "not_found"
    assert world.get("/accounts/999999/invoices", expect=404)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "query", "code", "field"),
    [
        ("/accounts", {"state": "sleeping"}, "invalid_field", "state"),
        ("/accounts", {"edition": "desktop"}, "invalid_field", "edition"),
        ("/accounts", {"test_clock": "x"}, "invalid_request", "test_clock"),
        ("/accounts", {"created_from": "yesterday"}, "invalid_request", "created_from"),
        ("/accounts", {"limit": 0}, "invalid_field", "limit"),
        ("/accounts", {"limit": 1001}, "invalid_field", "limit"),
        ("/accounts", {"after": -1}, "invalid_request", "after"),
        ("/accounts", {"order": "up"}, "invalid_request", "order"),
        ("/accounts", {"name": ""}, "invalid_request", "name"),
        ("/accounts", {"name": "a\x00b"}, "invalid_field", "name"),
        ("/subscriptions", {"state": "done"}, "invalid_field", "state"),
        ("/subscriptions", {"account_id": 0}, "invalid_request", "account_id"),
        ("/subscriptions", {"account_id": 2**63}, "invalid_request", "account_id"),
        ("/invoices", {"kind": "gift"}, "invalid_field", "kind"),
        ("/invoices", {"status": "lost"}, "invalid_field", "status"),
        ("/invoices", {"issued_from": "2026-13-01"}, "invalid_request", "issued_from"),
        ("/accounts/1/invoices", {"status": "lost"}, "invalid_field", "status"),
    ],
)  # fmt: skip
def test_a_bad_filter_answers_422_with_its_code(
    world: World, path: str, query: dict[str, Any], code: str, field: str
) -> None:
    error = world.get(path, expect=422, **query)["error"]
    assert error["code"] == code
    assert field in str(error["details"])


def _patch(
    world: World, path: str, body: Any, expect: int = 200, auth: Headers | None = None
) -> Any:
    response = world.client.patch(
        f"/api/v1{path}", json=body, headers=world.auth if auth is None else auth
    )
    assert response.status_code == expect, response.text
    return response.json()


def _metadata_audits(world: World, object_type: str, object_id: int) -> list[AuditEntry]:
    with world.context.session() as db, db.begin():
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == object_type)
                .where(AuditEntry.object_id == str(object_id))
                .where(AuditEntry.action == f"{object_type}.metadata_changed")
                .order_by(AuditEntry.id)
            )
        )


def test_metadata_is_set_replaced_removed_answered_and_audited(world: World) -> None:
    opened = world.post(
        "/accounts",
        {"name": "Meta", "admin_email": "m@meta.io", "metadata": {"crm_id": "42", "src": "web"}},
        201,
    )
    account = opened["id"]
    assert opened["metadata"] == {"crm_id": "42", "src": "web"}
    changed = _patch(world, f"/accounts/{account}", {"metadata": {"crm_id": "43", "src": None}})
    assert changed["metadata"] == {"crm_id": "43"}
    assert world.get(f"/accounts/{account}")["metadata"] == {"crm_id": "43"}
    audits = _metadata_audits(world, "account", account)
    assert [(a.before, a.after) for a in audits] == [
        ({"metadata": {}}, {"metadata": {"crm_id": "42", "src": "web"}}),
        ({"metadata": {"crm_id": "42", "src": "web"}}, {"metadata": {"crm_id": "43"}}),
    ]
    assert len({a.actor for a in audits}) == 1 and audits[0].actor.startswith("apikey:")
    _patch(world, f"/accounts/{account}", {"metadata": {"crm_id": "43"}})  # no change
    assert len(_metadata_audits(world, "account", account)) == 2

    order = world.post(
        f"/accounts/{account}/subscriptions",
        {"plan": "basic", "months": 12, "metadata": {"deal": "D-1"}},
        201,
    )
    sub, invoice = order["subscription"], order["invoice"]
    assert sub["metadata"] == {"deal": "D-1"}
    assert world.get(f"/accounts/{account}/subscription")["metadata"] == {"deal": "D-1"}
    assert _patch(world, f"/subscriptions/{sub['id']}", {"metadata": {"deal": "D-2"}}) == {
        "metadata": {"deal": "D-2"}
    }
    before = world.get(f"/invoices/{invoice['id']}")
    assert before["metadata"] == {}
    assert _patch(world, f"/invoices/{invoice['id']}", {"metadata": {"erp": "X-9"}}) == {
        "metadata": {"erp": "X-9"}
    }
    after = world.get(f"/invoices/{invoice['id']}")
    assert after == {**before, "metadata": {"erp": "X-9"}}  # the invoice itself never changes
    assert len(_metadata_audits(world, "invoice", invoice["id"])) == 1

    assert world.ids("/accounts", **_q({"metadata[crm_id]": "43"})) == [account]
    assert world.ids("/accounts", **_q({"metadata[crm_id]": "42"})) == []
    assert world.ids("/subscriptions", **_q({"metadata[deal]": "D-2"})) == [sub["id"]]
    assert world.ids("/invoices", **_q({"metadata[erp]": "X-9"})) == [invoice["id"]]
    assert world.ids(f"/accounts/{account}/invoices", **_q({"metadata[erp]": "X-9"})) == [
        invoice["id"]
    ]
    assert world.get("/invoices", **_q({"metadata[erp]": "X-9"}))["data"][0]["metadata"] == {
        "erp": "X-9"
    }
    row = world.get("/accounts", **_q({"metadata[crm_id]": "43"}))["data"][0]
    assert row["metadata"] == {"crm_id": "43"}


def test_metadata_filters_are_anded(world: World) -> None:
    first, second, *_ = world.accounts
    _patch(world, f"/accounts/{first}", {"metadata": {"a": "1", "b": "2"}})
    _patch(world, f"/accounts/{second}", {"metadata": {"a": "1", "b": "3"}})
    assert world.ids("/accounts", **_q({"metadata[a]": "1"})) == [first, second]
    assert world.ids("/accounts", **_q({"metadata[a]": "1", "metadata[b]": "3"})) == [second]
    assert world.ids("/accounts", **_q({"metadata[a]": "1", "metadata[c]": "3"})) == []


@pytest.mark.parametrize(
    "metadata",
    [
        {"": "x"},
        {"bad key": "x"},
        {"k" * 41: "x"},
        {"ключ": "x"},
        {"n": 42},
        {"n": ["x"]},
        {"n": "x" * 501},
        {f"k{i}": "v" for i in range(21)},
    ],
)
def test_metadata_out_of_bounds_answers_422(world: World, metadata: dict[str, Any]) -> None:
    account = world.accounts[0]
    error = _patch(world, f"/accounts/{account}", {"metadata": metadata}, 422)["error"]
    assert error["code"] in {"invalid_field", "invalid_request"}
    assert "metadata" in str(error["details"])
    refused = world.client.post(
        "/api/v1/accounts",
        json={"name": "Never", "admin_email": "n@never.io", "metadata": metadata},
        headers=world.auth,
    )
    assert refused.status_code == 422
    assert world.get("/accounts", name="Never")["data"] == []  # refused before it was opened
    assert world.get(f"/accounts/{account}")["metadata"] == {}


def test_metadata_holds_twenty_keys_and_a_bad_filter_key_is_422(world: World) -> None:
    account = world.accounts[0]
    twenty = {f"k{i}": "v" for i in range(20)}
    assert _patch(world, f"/accounts/{account}", {"metadata": twenty})["metadata"] == twenty
    _patch(world, f"/accounts/{account}", {"metadata": {"k20": "v"}}, 422)
    error = world.get("/accounts", expect=422, **_q({"metadata[bad key]": "1"}))["error"]
    assert error["code"] == "invalid_field"


def test_an_accounts_key_changes_only_its_own_metadata(world: World) -> None:
    romashka, acme, *_ = world.accounts
    own = world.key_of(acme)
    theirs = world.orders[0]
    _patch(
        world, f"/subscriptions/{theirs['subscription']['id']}", {"metadata": {"a": "b"}}, 404, own
    )
    _patch(world, f"/invoices/{theirs['invoice']['id']}", {"metadata": {"a": "b"}}, 404, own)
    _patch(world, f"/accounts/{romashka}", {"metadata": {"a": "b"}}, 404, own)
    mine = world.orders[1]
    _patch(world, f"/invoices/{mine['invoice']['id']}", {"metadata": {"a": "b"}}, 200, own)
    _patch(world, "/invoices/999999", {"metadata": {"a": "b"}}, 404)


def test_an_account_with_only_cancelled_subscriptions_is_cancelled(world: World) -> None:
    romashka, acme, holding, *_ = world.accounts
    with world.context.session() as db, db.begin():  # as the daily run leaves a never-paid one
        sub = db.get_one(Subscription, world.orders[1]["subscription"]["id"])
        sub.status = "cancelled"
    assert world.ids("/accounts", state="cancelled") == [acme]
    assert acme not in world.ids("/accounts", state="none")  # ordered once: never "none"
    assert world.ids("/accounts", state="pending") == [holding]
    assert world.ids("/accounts", plan="basic") == []  # the live subscription's plan
    assert world.ids("/subscriptions", state="cancelled") == [sub.id]
    row = world.get("/accounts", state="cancelled")["data"][0]
    assert (row["state"], row["plan"]) == ("cancelled", "basic")  # the latest one's
    assert romashka not in world.ids("/accounts", state="cancelled")
