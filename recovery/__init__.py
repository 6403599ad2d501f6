"""The pure heart of tmux-guardian: state models, the checkpoint format and store, the
classifier, strategies and restore plans. It decides; `guardian` acts (no process, no tmux
here)."""
