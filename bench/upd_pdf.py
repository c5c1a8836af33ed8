"""Benchmark: one УПД's PDF, the median render time of a 5-line УПД (status 1, a proxy signer,
a prepayment, a state contract id) beside the existing act's (one line) as the baseline,
measured in the same run and interleaved (this 2-core machine is noisy: read the ratio).
The first render of each (fonts load) is a warm-up and not counted. With `--record`, writes
the figures into docs/benchmarks.md between the `bench/upd_pdf.py` markers.

    .venv/bin/python bench/upd_pdf.py [--runs 30] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import record  # noqa: E402
from podpiska.adapters.pdf import WeasyPrintRenderer  # noqa: E402
from podpiska.ports import (  # noqa: E402
    DocumentData,
    DocumentLine,
    Party,
    PaymentReference,
    Proxy,
    UpdData,
    UpdLine,
)

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    address="117312, г. Москва, ул. Вавилова, д. 19",
    director="Иванов И. И.",
    accountant="Петрова А. С.",
    director_position="Генеральный директор",
    accountant_position="Главный бухгалтер",
    proxy=Proxy("Сидоров С. С.", "Коммерческий директор", "12/2026", dt.date(2026, 1, 15)),
)
BUYER = Party(
    name="ООО «Ромашка»",
    inn="5001012345",
    kpp="500101001",
    address="141400, Московская обл., г. Химки, ул. Ленина, д. 1",
)
TOTAL = Decimal("43092.00")
ACT = DocumentData(
    kind="act",
    number="ACT-2026-000001",
    issued_on=dt.date(2027, 11, 21),
    seller=SELLER,
    buyer=BUYER,
    lines=(DocumentLine(1, "Тариф «Стандартный», 12 мес.", Decimal(1), "усл.", TOTAL, TOTAL),),
    total=TOTAL,
    vat_amount=Decimal("7770.69"),
    vat_rate="22",
    basis="Счёт на оплату № 2026-000001 от 22.11.2026",
    period=(dt.date(2026, 11, 22), dt.date(2027, 11, 21)),
)


def upd_line(n: int) -> UpdLine:
    price = Decimal("3000.00") + n
    vat = (price * Decimal("0.22")).quantize(Decimal("0.01"))
    return UpdLine(
        n,
        f"Тариф «Профессиональный», 5 польз., 01.12.2026–31.12.2026, позиция {n}",
        "362",
        "мес.",
        Decimal(1),
        price,
        price,
        "22",
        vat,
        price + vat,
    )


LINES = tuple(upd_line(n) for n in range(1, 6))
UPD = UpdData(
    status=1,
    number="UPD-2026-000001",
    issued_on=dt.date(2026, 12, 31),
    seller=SELLER,
    buyer=BUYER,
    lines=LINES,
    total_without_vat=sum((x.amount_without_vat for x in LINES), Decimal(0)),
    vat_amount=sum((x.vat_amount for x in LINES), Decimal(0)),
    total=sum((x.amount for x in LINES), Decimal(0)),
    period=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    file_id="6f1c6a52-0d1e-4a53-9a4b-0f3d2b1c9e11",
    payments=(PaymentReference("417", dt.date(2026, 11, 25)),),
    basis="Договор-оферта от 01.11.2026",
    state_contract_id="2770708389326000000000000",
)


def timed(call: Callable[[], bytes]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="renders of each, interleaved")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()

    renderer = WeasyPrintRenderer()
    cases: dict[str, Callable[[], bytes]] = {
        "act, 1 line (baseline)": lambda: renderer.render(ACT),
        "УПД status 1, 5 lines": lambda: renderer.render_upd(UPD),
    }
    first = {name: timed(call) for name, call in cases.items()}  # warm-up: fonts load
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, call in cases.items():
            times[name].append(timed(call))

    act, upd = (statistics.median(t) for t in times.values())
    rows = [
        f"| {name} | {statistics.median(t):.3f} | "
        f"{statistics.quantiles(t, n=10)[-1]:.3f} | {min(t):.3f} | {first[name]:.2f} |"
        for name, t in times.items()
    ]
    text = "\n".join(
        [
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{args.runs} renders of each, interleaved.",
            "",
            "| PDF | median s | p90 s | min s | first render s |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"The УПД takes {upd / act:.1f}× the act's time "
            f"({upd * 1000:.0f} ms against {act * 1000:.0f} ms).",
        ]
    )
    print(text)
    if args.record:
        record("upd_pdf.py", "One УПД's PDF", text)


if __name__ == "__main__":
    main()
