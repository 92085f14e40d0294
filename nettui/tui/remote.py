"""The terminal UI for a user the bastion has authenticated.

The bastion (bastion/remote_tui.py) runs ``python -m nettui.tui.remote USER`` in a
pseudo-terminal of its own per SSH session, with the store's URL in ``NETTUI_DATABASE_URL``,
and relays that terminal to the user's SSH channel. The UI then acts as USER, whose role
limits what it shows and allows, exactly as for a local login. Whoever can run this module on
the bastion host can already reach the store directly: the host is the trust boundary.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0]:
        print("usage: python -m nettui.tui.remote USER  (run by the bastion)", file=sys.stderr)
        return 2
    from catalog.errors import NettuiError
    from catalog.store import open_store
    from nettui.tui.app import NettuiApp

    try:
        store = open_store()
    except NettuiError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return 1
    try:
        NettuiApp(store, user=args[0]).run()
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
