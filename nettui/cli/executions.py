"""`nettui executions`: defined with `nettui run`, which shares its formatting."""

from nettui.cli.run import executions_group as group

__all__ = ["group"]
