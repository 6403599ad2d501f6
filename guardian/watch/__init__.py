"""The watcher: a guard per server polls, classifies, repairs and checkpoints; the asyncio
loop around the guards, their locks, their live-state files and `status`."""
