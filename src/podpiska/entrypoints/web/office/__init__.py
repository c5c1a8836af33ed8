"""The vendor's back office (`vendor_admin`, `vendor_operator`), one module per topic:
`analytics` (the dashboard, the catalog, migration plans), `accounts`, `bank` (statements and
the review queue), `deliveries`, `test_clocks`; `audit` renders events and audit rows."""
