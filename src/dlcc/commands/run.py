"""`dlcc run`: placeholder until its layer lands."""


def register(sub) -> None:
    p = sub.add_parser("run", help="(not yet available)")
    p.set_defaults(func=lambda args: print("dlcc run is not available yet") or 2)
