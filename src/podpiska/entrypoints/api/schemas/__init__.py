"""Request and response bodies of the API, one module per area; `common` holds the input
types every body stands on (`Amount`, `Name`, `Code`, `Line`, `BodyId`, `Moment`, `In`)."""
