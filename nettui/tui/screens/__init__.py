"""The screens of the terminal UI, one module per area an operator works in."""
