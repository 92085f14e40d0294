"""Lifecycle services on the engine: configuration backups (backup), compliance with
remediation (compliance), and the python hooks that let schedules and workflows run them
(hooks)."""
