"""`dlcc models list | summary NAME [--input 3,32,32] [--set key=value ...] [--json]`."""

from __future__ import annotations

import inspect
import json
import re

from dlcc.errors import ConfigError, DlccError, InputError

MAX_INPUT_ELEMENTS = 50_000_000  # a summary runs one forward pass; keep it well inside memory


def register(sub) -> None:
    p = sub.add_parser("models", help="list the model zoo or print a model's layer table")
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help() or 2))

    lp = msub.add_parser("list", help="model names, parameter counts, input shapes, course source")
    lp.add_argument("--json", action="store_true", help="print JSON")
    lp.set_defaults(func=cmd_list)

    sp = msub.add_parser("summary", help="layer table: layer, type, output shape, parameters")
    sp.add_argument("name", help="model name (see `dlcc models list`)")
    sp.add_argument("--input", metavar="C,H,W", help="shape of one input sample, e.g. 3,32,32 "
                    "(default: the model's usual input)")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="constructor argument, e.g. --set depth=3 (repeatable)")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.set_defaults(func=cmd_summary)


def parse_shape(text: str) -> tuple[int, ...]:
    """"3,32,32" (or "3x32x32") → (3, 32, 32); anything else is an `InputError`."""
    parts = [p for p in re.split(r"[,x×\s]+", text.strip()) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise InputError(f"--input {text!r} is not a shape of positive integers",
                         fix="give one sample's shape without the batch, e.g. --input 3,32,32")
    n = 1
    for s in shape:
        n *= s
    if n > MAX_INPUT_ELEMENTS:
        raise InputError(f"--input {text!r} has {n:,} elements, more than the {MAX_INPUT_ELEMENTS:,} "
                         "a summary allows", fix="summarise a smaller input; layer shapes scale with it")
    return shape


def parse_sets(items: list[str]) -> dict:
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is not KEY=VALUE", fix="e.g. --set depth=3")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def _fmt_shape(shape) -> str:
    return "×".join(str(s) for s in shape)


def cmd_list(args) -> int:
    from dlcc.models import count_params, get_model, list_models

    rows = []
    for spec in list_models():
        rows.append({"name": spec.name, "params": count_params(get_model(spec.name)),
                     "input": list(spec.input_shape), "task": spec.task, "source": spec.source,
                     "description": spec.description})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cells = [(r["name"], f"{r['params']:,}", _fmt_shape(r["input"]), r["source"], r["description"])
             for r in rows]
    headers = ("name", "params", "input", "course source", "description")
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for c in [headers, *cells]:
        print("  ".join(v.rjust(w) if i == 1 else v.ljust(w) for i, (v, w) in enumerate(zip(c, widths))).rstrip())
    return 0


def cmd_summary(args) -> int:
    from dlcc.models import get_model, get_spec, summarize

    spec = get_spec(args.name)  # unknown name: ConfigError with suggestions
    shape = parse_shape(args.input) if args.input is not None else spec.input_shape
    kwargs = parse_sets(args.set)
    try:
        model = get_model(args.name, **kwargs)
    except DlccError:
        raise
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot build model {args.name!r} with {kwargs}: {exc}",
                          fix=f"check the --set values; `dlcc models summary {args.name}` uses the defaults") from None
    try:
        summary = summarize(model, shape, dtype=spec.input_dtype)
    except DlccError:
        raise
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        default = ",".join(map(str, spec.input_shape))
        size_args = [a for a in ("in_channels", "C", "H", "W", "input_size")
                     if a in inspect.signature(type(model)).parameters]
        rebuild = (", or build the model for your input with " + " ".join(f"--set {a}=..." for a in size_args)
                   if size_args else "")
        raise InputError(f"model {args.name!r} cannot run on one input of shape {list(shape)}: {first}",
                         fix=f"use a shape the model accepts, e.g. --input {default} (its default){rebuild}") from None
    if args.json:
        print(json.dumps({"name": args.name, **summary.to_dict()}, indent=2))
    else:
        print(f"{args.name}: {spec.description}  [{spec.source}]")
        print(summary.table())
    return 0

