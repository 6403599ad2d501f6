"""Modal screens of the UI (confirmations)."""
