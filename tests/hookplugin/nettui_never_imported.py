"""A module the tests name as a hook without registering it: run_hook must never import it,
so its presence in ``sys.modules`` is the failure a test looks for."""

IMPORTED = True


def run(*args: object) -> None:
    """Would do anything at all if it were ever called."""
