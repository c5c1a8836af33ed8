"""Benchmark: УПД XML files (ФНС format 5.03) per second on one core, for a 5-line document.

Prints its figures beside baselines measured in the same run (compare ratios, not absolute
numbers across runs): the same data as a dict dumped with `json.dumps`, and the lxml tree
built but not serialised. With `--record`, writes them into docs/benchmarks.md between the
`bench/upd_xml.py` markers.

    .venv/bin/python bench/upd_xml.py [--seconds 3] [--record]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import platform
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import rate, record  # noqa: E402
from podpiska.adapters.upd_xml import build_tree, upd_xml  # noqa: E402
from podpiska.ports import Party, PaymentReference, UpdData, UpdLine  # noqa: E402

TARGET = 2000
CREATED = dt.datetime(2027, 1, 1, 9, 5, 7)  # noqa: DTZ001 - the file's local time
SENDER = "2BM-7707083893-773601001-000000000000000000001"
RECIPIENT = "2BM-7701234567-770101001-000000000000000000002"


def document() -> UpdData:
    lines = []
    for position, (net, quantity) in enumerate(
        [("10000.00", 1), ("2500.50", 2), ("999.99", 3), ("1500.00", 12), ("350.00", 5)], 1
    ):
        amount = Decimal(net)
        vat = (amount * Decimal("0.22")).quantize(Decimal("0.01"))
        lines.append(
            UpdLine(
                position=position,
                description=f"Тариф «Профессиональный», 5 польз., услуга {position}, "
                "01.12.2026–31.12.2026",
                unit_code="362",
                unit="мес.",
                quantity=Decimal(quantity),
                price=amount / quantity,
                amount_without_vat=amount,
                vat_rate="22",
                vat_amount=vat,
                amount=amount + vat,
            )
        )
    return UpdData(
        status=1,
        number="UPD-2026-000001",
        issued_on=dt.date(2026, 12, 31),
        seller=Party(
            name="ООО «Подписка»",
            inn="7707083893",
            kpp="773601001",
            address="117312, г. Москва, ул. Вавилова, д. 19",
            director="Иванов Иван Иванович",
            director_position="Генеральный директор",
        ),
        buyer=Party(
            name="ООО «Ромашка & Ко»",
            inn="7701234567",
            kpp="770101001",
            address="125009, г. Москва, ул. Тверская, д. 7",
        ),
        lines=tuple(lines),
        total_without_vat=sum((x.amount_without_vat for x in lines), Decimal(0)),
        vat_amount=sum((x.vat_amount for x in lines), Decimal(0)),
        total=sum((x.amount for x in lines), Decimal(0)),
        period=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        file_id="16ad2de0-fadd-47fb-8838-b02d9f37d40b",
        payments=(PaymentReference("512", dt.date(2026, 11, 25)),),
        basis="Договор-оферта от 01.11.2026",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    data = document()

    def xml() -> tuple[str, bytes]:
        return upd_xml(data, sender_id=SENDER, recipient_id=RECIPIENT, created_at=CREATED)

    def tree() -> object:
        return build_tree(data, file_id="x", created_at=CREATED, program="Podpiska")

    def as_json() -> object:
        return json.dumps(dataclasses.asdict(data), default=str, ensure_ascii=False).encode(
            "cp1251", "xmlcharrefreplace"
        )

    _, body = xml()
    figures = [
        ("upd_xml(): file name and windows-1251 bytes", rate(xml, args.seconds)),
        ("baseline: the lxml tree built, not serialised", rate(tree, args.seconds)),
        ("baseline: the same data, json.dumps of its dict", rate(as_json, args.seconds)),
    ]
    xml_rate = figures[0][1]
    now = dt.datetime.now(dt.UTC)
    verdict = f"met ({xml_rate / TARGET:.1f}× the target)" if xml_rate >= TARGET else "NOT met"
    text = "\n".join(
        [
            f"Measured {now:%Y-%m-%d %H:%M} UTC on {platform.machine()}, one process (one core),"
            f" Python {platform.python_version()}; a 5-line status-1 УПД, one payment document,"
            f" {len(body):,} bytes.",
            "",
            "| УПД XML, one process | per second |",
            "|---|---:|",
            *(f"| {label} | {value:,.0f} |" for label, value in figures),
            "",
            f"Target: at least {TARGET:,} files/s → {verdict}.",
        ]
    )
    print(text)
    if args.record:
        record("upd_xml.py", "УПД XML files, ФНС format 5.03", text)


if __name__ == "__main__":
    main()
