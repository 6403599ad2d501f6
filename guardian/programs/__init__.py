"""The adapter half of program strategies (`recovery.programs`): probes that read what
each tool leaves on disk and in /proc while it runs, and the facts a restore asks for."""
