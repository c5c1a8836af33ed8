"""The API's routers, one module per area; `api/main.py` includes them under `/api/v1`
(`ops`, the probes and metrics, at the root)."""
