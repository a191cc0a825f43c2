"""`dlcc sweep`: placeholder until its layer lands."""


def register(sub) -> None:
    p = sub.add_parser("sweep", help="(not yet available)")
    p.set_defaults(func=lambda args: print("dlcc sweep is not available yet") or 2)
