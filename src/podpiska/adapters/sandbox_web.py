"""The sandbox gateway's pages: where a customer "pays" with a test card, confirms 3-D
Secure, or approves a wallet or SBP payment. Mounted by `podpiska.app` when the sandbox is
the gateway; plain HTML, no scripts, nothing from the network."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.adapters.sandbox import TEST_CARDS, SandboxGateway
from podpiska.core.domain.money import format_money
from podpiska.ports import GatewayError

_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Sandbox — {title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#222}}
.box{{border:1px solid #ccc;border-radius:8px;padding:1.5rem}}
.note{{color:#666;font-size:.9rem}} button{{padding:.5rem 1rem;margin-right:.5rem}}
input{{padding:.4rem;width:14rem}} table{{font-size:.85rem}}</style></head>
<body><p class="note">Podpiska sandbox gateway — no real money moves.</p>
<div class="box"><h2>{title}</h2>{body}</div></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status)


def sandbox_router(gateway: SandboxGateway) -> APIRouter:
    router = APIRouter(prefix="/sandbox", include_in_schema=False)

    def _done(payment_id: str) -> Response:
        info = gateway.checkout(payment_id)
        if info["return_url"]:
            return RedirectResponse(info["return_url"], status_code=303)
        return _page("Готово", f"<p>Платёж {escape(payment_id)}: {escape(info['status'])}</p>")

    @router.get("/checkout/{payment_id}")
    def checkout_page(payment_id: str) -> Response:
        try:
            info = gateway.checkout(payment_id)
        except GatewayError:
            return _page("Платёж не найден", "<p>Нет такого платежа.</p>", 404)
        amount = format_money(info["amount"], info["currency"], "ru")
        head = f"<p>{escape(info['description'])}</p><p><b>{escape(amount)}</b></p>"
        if info["status"] != "pending":
            return _page("Оплата", head + f"<p>Статус: {escape(info['status'])}</p>")
        if info["method_type"] == "bank_card":
            cards = "".join(
                f"<tr><td>{c.number}</td><td>{escape(c.outcome)}</td></tr>"
                for c in TEST_CARDS.values()
            )
            form = (
                f'<form method="post"><label>Номер карты <input name="card" '
                f'autocomplete="off" value="4242 4242 4242 4242"></label> '
                f"<button>Оплатить</button></form>"
                f"<p class='note'>Тестовые карты:</p><table>{cards}</table>"
            )
        else:
            label = "ЮMoney" if info["method_type"] == "yoo_money" else "СБП"
            form = (
                f'<form method="post"><p>Подтвердите платёж в приложении ({label}).</p>'
                '<button name="approve" value="yes">Подтвердить</button>'
                '<button name="approve" value="no">Отказаться</button></form>'
            )
        if info["save_method"]:
            form += "<p class='note'>Способ оплаты будет сохранён для автоплатежа.</p>"
        return _page("Оплата", head + form)

    @router.post("/checkout/{payment_id}")
    async def checkout_submit(payment_id: str, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        try:
            status = gateway.pay(
                payment_id,
                card=form.get("card", [""])[0],
                approve=form.get("approve", ["yes"])[0] == "yes",
            )
        except GatewayError:
            return _page("Платёж не найден", "<p>Нет такого платежа.</p>", 404)
        if status == "pending":
            return RedirectResponse(f"{gateway.base_url}/sandbox/3ds/{payment_id}", 303)
        return _done(payment_id)

    @router.get("/3ds/{payment_id}")
    def three_ds_page(payment_id: str) -> Response:
        try:
            info = gateway.checkout(payment_id)
        except GatewayError:
            return _page("Платёж не найден", "<p>Нет такого платежа.</p>", 404)
        if not info["awaiting_3ds"]:
            return _done(payment_id)
        return _page(
            "3-D Secure",
            "<p>Банк просит подтвердить платёж кодом из SMS.</p>"
            '<form method="post"><button name="approve" value="yes">Подтвердить</button>'
            '<button name="approve" value="no">Отклонить</button></form>',
        )

    @router.post("/3ds/{payment_id}")
    async def three_ds_submit(payment_id: str, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        try:
            gateway.confirm_3ds(payment_id, approve=form.get("approve", ["yes"])[0] == "yes")
        except GatewayError:
            return _page("Платёж не найден", "<p>Нет такого платежа.</p>", 404)
        return _done(payment_id)

    return router
