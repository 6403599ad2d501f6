"""The Textual UI: one screen of session health, checkpoints and history, with actions."""
