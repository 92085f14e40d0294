"""`python -m nettui.cli`: the same as the `nettui` command."""

from nettui.cli import main

if __name__ == "__main__":
    main()
