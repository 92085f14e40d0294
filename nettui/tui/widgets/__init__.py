"""Widgets shared by the screens: filterable live tables, status badges, config and diff views,
dialogs, and the shell's navigation and status bar."""
