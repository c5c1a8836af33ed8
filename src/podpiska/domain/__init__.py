"""Pure business rules: standard library only (see DESIGN.md, "Layers")."""
