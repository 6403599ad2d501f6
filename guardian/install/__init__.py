"""Living with it: the systemd user unit that runs the watcher, and the tmux.conf lines."""
