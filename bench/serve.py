"""The API as the benchmarks run it: `podpiska serve --workers N` without the CLI's start-up
(see src/podpiska/entrypoints/serving.py for how the processes share the port).

    .venv/bin/python bench/serve.py [--host 127.0.0.1] [--port 8000] [--workers 2]

The settings come from the environment (`PODPISKA_*`), as for `podpiska serve`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from podpiska.entrypoints.serving import serve_processes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    serve_processes(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
