"""Sizes gameday refuses beyond, in a module with no imports: readers that need only the number (the trends'
first-line reader in its worker processes) do not pay for the journal's event models (~0.2 s of imports)."""

#: The longest journal line read (bytes): a longer one is not a gameday event.
MAX_LINE = 16 * 1024 * 1024
