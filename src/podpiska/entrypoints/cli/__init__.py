"""The `podpiska` command line, one module per area; `main` is the root app that registers
them, `common` what they share. The area modules import `common`, `main` imports the area
modules, never the reverse."""
