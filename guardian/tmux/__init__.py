"""The tmux adapter: running tmux with timeouts, reading a server in one round trip, /proc
probes, preparing a server, and executing restore plans in batched, verified phases."""
