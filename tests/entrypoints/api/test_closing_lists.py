"""`GET /closing-documents` through the API after a real month-end run, on SQLite and
PostgreSQL (issue 17): a 12-month order paid on 22.11.2026 and lived to 30.11.2026 has its
advance счёт-фактура and its УПД listed, each kind in its own id series, with the links the
download routes serve; filtered by account, day and number; an account's key sees its own
documents only (another account named: 404); a kind or a day that is not one: 422."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_documents import key, open_and_order
from tests.entrypoints.api.test_upd import _month_end, context  # noqa: F401


def page(client: TestClient, query: str, auth: dict[str, str]) -> Any:
    got = client.get(f"/api/v1/closing-documents?{query}", headers=auth)
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"data", "has_more", "next_after"}
    return body


def test_closing_documents_by_kind_filtered_and_scoped(context: Context) -> None:  # noqa: F811
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    other, _ = open_and_order(client, vendor, "ООО «Лютик»", 2)

    (upd,) = page(client, "", vendor)["data"]
    assert upd == {
        "kind": "upd",
        "id": closing_id,
        "account_id": account,
        "number": "UPD-2026-000001",
        "date": "2026-11-30",
        "total": "1062.54",
        "vat": upd["vat"],
        "form": upd["form"],
        "invoice_id": None,
        "closing_id": None,
        "pdf": f"/api/v1/upds/{closing_id}/pdf",
        "xml": f"/api/v1/upds/{closing_id}/xml",
        "invoice_factura_pdf": upd["invoice_factura_pdf"],
    }
    assert client.get(upd["pdf"], headers=vendor).status_code == 200
    (advance,) = page(client, "kind=advance", vendor)["data"]
    assert (advance["number"], advance["date"], advance["total"]) == (
        "AV-2026-000001",
        "2026-11-22",
        "43092.00",
    )
    assert advance["pdf"] == f"/api/v1/advances/{advance['id']}/pdf"
    assert advance["invoice_id"] is not None
    assert page(client, "kind=correction", vendor)["data"] == []

    # paging: one at a time, then nothing more
    first = page(client, "kind=upd&limit=1", vendor)
    assert (first["has_more"], first["next_after"]) == (False, closing_id)
    assert page(client, f"after={closing_id}", vendor)["data"] == []

    assert len(page(client, f"account_id={account}", vendor)["data"]) == 1
    assert page(client, f"account_id={other}", vendor)["data"] == []
    assert len(page(client, "number=UPD-2026-000001", vendor)["data"]) == 1
    assert page(client, "number=UPD-2026-000002", vendor)["data"] == []
    assert len(page(client, "date_from=2026-11-30&date_to=2026-11-30", vendor)["data"]) == 1
    assert page(client, "date_from=2026-12-01", vendor)["data"] == []
    assert page(client, "kind=advance&date_to=2026-11-21", vendor)["data"] == []

    own = key(context, "account_admin", account)
    assert len(page(client, "", own)["data"]) == 1
    theirs = key(context, "account_admin", other)
    assert page(client, "", theirs)["data"] == []
    assert page(client, "kind=advance", theirs)["data"] == []
    refused = client.get(f"/api/v1/closing-documents?account_id={account}", headers=theirs)
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")

    for query in ("kind=invoice", "date_from=2026-02-30", "account_id=0", "limit=0"):
        bad = client.get(f"/api/v1/closing-documents?{query}", headers=vendor)
        assert bad.status_code == 422, query
        assert set(bad.json()["error"]) == {"code", "message", "details"}
    assert client.get("/api/v1/closing-documents").status_code == 401
