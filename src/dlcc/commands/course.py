"""`dlcc course`: placeholder until its layer lands."""


def register(sub) -> None:
    p = sub.add_parser("course", help="(not yet available)")
    p.set_defaults(func=lambda args: print("dlcc course is not available yet") or 2)
