"""Sub-command groups of the `dlcc` CLI; each module has `register(subparsers)`."""
