"""nettui's domain: the store, its models and migrations, and catalog-as-code.

No device I/O and no Textual here.
"""
