"""What a person asks for — snapshot, restore, forget/recover/pause, import/export — and
the Engine (settings, state dir, guarded servers) that they and the watcher share."""
