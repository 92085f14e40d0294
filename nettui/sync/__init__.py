"""Syncing the inventory from external sources of truth (Nautobot)."""
