"""`nettui approve`: defined with `nettui approvals`."""

from nettui.cli.approvals import approve as group

__all__ = ["group"]
