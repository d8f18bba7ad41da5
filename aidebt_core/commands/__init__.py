"""CLI sub-commands: each module has `register(subparsers)`; `aidebt_core.cli` finds them."""
