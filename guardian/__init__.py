"""The machine side of tmux-guardian: everything that runs tmux, reads /proc, signals a
process or talks to a person. `recovery` decides, `guardian` acts (docs/ARCHITECTURE.md)."""

from guardian.own_environment import set_for_ourselves

# pydantic would otherwise scan every installed package for plugins at start-up (~15 ms);
# set before any model is made (`config` is imported after this package), and never seen
# by the servers (and panes) we start.
set_for_ourselves("PYDANTIC_DISABLE_PLUGINS", "__all__")
