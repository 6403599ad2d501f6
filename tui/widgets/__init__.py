"""The widgets of the UI's main screen: sessions, panes, checkpoints, history."""
