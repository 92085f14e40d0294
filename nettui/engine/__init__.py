"""The engine: runs workflows against devices and writes down everything it does.

The TUI, the CLI, the bastion and `nettui engine` all call these functions.
"""
