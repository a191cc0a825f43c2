"""`dlcc models`: placeholder until its layer lands."""


def register(sub) -> None:
    p = sub.add_parser("models", help="(not yet available)")
    p.set_defaults(func=lambda args: print("dlcc models is not available yet") or 2)
