"""One module per summary section: `tables(section) -> list[Table]` for the terminal report."""
