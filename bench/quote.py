"""Benchmark: quotes per second (the pure function) and `podpiska quote` start-up time.

Prints its figures beside baselines measured in the same run (this 2-core machine is
noisy: compare ratios, not absolute numbers across runs). With `--record`, writes them
into docs/benchmarks.md between the `bench/quote.py` markers.

    .venv/bin/python bench/quote.py [--seconds 3] [--runs 15] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import rate, record  # noqa: E402
from podpiska.catalog.domain.pricing import QuoteRequest, quote  # noqa: E402
from podpiska.catalog.loading import load_catalog  # noqa: E402
from podpiska.entrypoints.presenters import quote_json  # noqa: E402

AT = dt.date(2026, 11, 22)
REQUESTS = [
    ("crm-shop", QuoteRequest("standard", 12)),
    ("crm-shop", QuoteRequest("basic", 1)),
    (
        "crm-shop",
        QuoteRequest("professional", 24, add_ons=("marketplace",), promotions=("MARKETPLACE50",)),
    ),
    ("site-platform", QuoteRequest("business", 12, users=37, add_ons=("api_access",))),
]


def bench_quotes(seconds: float) -> dict[str, float]:
    catalogs = {
        name: load_catalog(ROOT / "catalogs" / f"{name}.yaml")
        for name in ("crm-shop", "site-platform")
    }
    work = [(catalogs[name], request) for name, request in REQUESTS]
    index = 0

    def one_quote() -> None:
        nonlocal index
        catalog, request = work[index % len(work)]
        index += 1
        quote(catalog, request, AT)

    def one_quote_json() -> None:
        nonlocal index
        catalog, request = work[index % len(work)]
        index += 1
        quote_json(quote(catalog, request, AT))

    price, months, discount = Decimal("3990.00"), 12, Decimal(10)
    cent = Decimal("0.01")

    def floor() -> None:
        # The least any quote must do: one line's arithmetic and rounding.
        (price * months * (100 - discount) / 100).quantize(cent, ROUND_HALF_UP)

    return {
        "quote()": rate(one_quote, seconds),
        "quote() + JSON with explanations": rate(one_quote_json, seconds),
        "floor: one line of bare Decimal arithmetic": rate(floor, seconds),
    }


def bench_cli(runs: int) -> dict[str, list[float]]:
    script = Path(sys.executable).with_name("podpiska")
    env = dict(os.environ)
    cache = ROOT / "var" / "cache"
    commands = {
        "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
        "python -c 'import typer, pydantic_settings' (library floor)": [
            sys.executable,
            "-c",
            "import typer, pydantic_settings",
        ],
        "podpiska quote --plan standard --months 12 --json": [
            str(script),
            "quote",
            "--plan",
            "standard",
            "--months",
            "12",
            "--json",
        ],
        "podpiska quote ... (table output)": [
            str(script),
            "quote",
            "--plan",
            "standard",
            "--months",
            "12",
        ],
    }
    subprocess.run(
        commands["podpiska quote ... (table output)"],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
    )  # warm the catalog cache
    assert any(cache.glob("catalog-*.pickle")), "the CLI did not cache the catalog"
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():  # interleaved: noise hits all alike
            start = time.perf_counter()
            subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput figure")
    parser.add_argument("--runs", type=int, default=15, help="CLI runs per command")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()

    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| quotes, one process | per second |",
        "|---|---:|",
    ]
    quotes = bench_quotes(args.seconds)
    for name, value in quotes.items():
        lines.append(f"| {name} | {value:,.0f} |")
    lines += [
        "",
        f"Target: at least 20 000 quotes/s → "
        f"{'met' if quotes['quote()'] >= 20_000 else 'NOT met'} "
        f"({quotes['quote()'] / 20_000:.1f}× the target).",
        "",
        f"| command ({args.runs} runs, interleaved) | median s | p90 s | min s |",
        "|---|---:|---:|---:|",
    ]
    cli = bench_cli(args.runs)
    for name, values in cli.items():
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
        lines.append(
            f"| `{name}` | {statistics.median(values):.3f} | {p90:.3f} | {ordered[0]:.3f} |"
        )
    median = statistics.median(cli["podpiska quote --plan standard --months 12 --json"])
    lines += [
        "",
        f"Target: `podpiska quote` under 0.5 s → {'met' if median < 0.5 else 'NOT met'} "
        f"(median {median:.3f} s).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("quote.py", "Quotes", text)
        print("\nrecorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
