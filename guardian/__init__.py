"""The machine side of tmux-guardian: everything that runs tmux, reads /proc, signals a
process or talks to a person. `recovery` decides, `guardian` acts (docs/ARCHITECTURE.md)."""
