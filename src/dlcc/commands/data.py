"""`dlcc data`: placeholder until its layer lands."""


def register(sub) -> None:
    p = sub.add_parser("data", help="(not yet available)")
    p.set_defaults(func=lambda args: print("dlcc data is not available yet") or 2)
