"""`dlcc predict RUN_DIR|EXPORTED_MODEL INPUT... [--out DIR]` and `dlcc predict --model ecg-rpeak RECORD...`."""

from __future__ import annotations

import json
import time

EPILOG = """examples:
  dlcc predict runs/cifar10-fast-20261204 photos/ --out preds/
  dlcc predict runs/isbi-unet-20261204 slices/ --masks labels/ --out masks/
  dlcc predict --model ecg-rpeak holter/r01.edf --lead ECG1 --out triggers/
  dlcc predict runs/ecg-rpeak-tcn-20261204 mitbih/100.hea --out triggers/   (100.atr beside it: scored)
  dlcc predict --model ecg-rpeak signal.npy --fs 250 --annotations beats.csv --out triggers/
  dlcc predict runs/char-gpt-20261204 --prompt 'ROMEO:' --length 300 --out generated/
see docs/predict.md"""


def register(sub) -> None:
    import argparse

    p = sub.add_parser("predict", help="run a trained model on your own images, ECG recordings or text",
                       description="Run a trained model (a run directory, an exported model, or a model dlcc ships) "
                                   "on images, ECG recordings or text.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("items", nargs="*", metavar="MODEL INPUT",
                   help="the model (run directory or exported file; omit with --model), then image / recording / text "
                        "files or folders")
    p.add_argument("--model", metavar="NAME", help="a model dlcc ships instead of MODEL: ecg-rpeak")
    p.add_argument("--out", metavar="DIR", help="a new or empty folder for the results "
                                                "(default: predictions/<model>-<time>)")
    p.add_argument("--fs", type=float, metavar="HZ", help="sampling rate of recordings that do not state one "
                                                          "(.npy, CSV without a time column)")
    p.add_argument("--lead", action="append", default=[], metavar="NAME",
                   help="lead(s) to use, by name, in order (repeatable or comma-separated)")
    p.add_argument("--annotations", metavar="PATH", help="reference beats: a .atr or CSV file (one recording), "
                                                         "or a folder of <record>.atr / <record>.csv")
    p.add_argument("--masks", metavar="DIR", help="reference masks (same file names): Dice and IoU per image")
    p.add_argument("--mask-suffix", default="", metavar="S", help="mask name = image stem + S (e.g. _mask)")
    p.add_argument("--max-pixels", type=int, metavar="N", help="refuse larger images (default 40,000,000)")
    p.add_argument("--prompt", metavar="TEXT", help="language models: generate text after TEXT "
                                                    "(characters of the training text only)")
    p.add_argument("--length", type=int, metavar="N", help="characters to generate after --prompt "
                                                           "(default: the run's sample.length)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from dlcc.errors import ConfigError
    from dlcc.predict import predict

    items = list(args.items)
    if args.model:
        model_ref, inputs = args.model, items
    elif items:
        model_ref, inputs = items[0], items[1:]
    else:
        raise ConfigError("name a model and inputs", fix="dlcc predict RUN_DIR IMAGES... or dlcc predict "
                                                         "--model ecg-rpeak RECORDS... or dlcc predict "
                                                         "CHAR_RUN --prompt TEXT")
    if args.max_pixels is not None and args.max_pixels < 1:
        raise ConfigError(f"--max-pixels {args.max_pixels} must be at least 1", fix="e.g. --max-pixels 40000000")
    leads = [name.strip() for value in args.lead for name in value.split(",") if name.strip()]
    out = Path(args.out) if args.out else \
        Path("predictions") / f"{Path(str(model_ref)).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    log = (lambda line: None) if args.json else print
    summary = predict(model_ref, inputs, out, shipped=bool(args.model), fs=args.fs, leads=leads,
                      annotations=args.annotations, masks=args.masks, mask_suffix=args.mask_suffix,
                      max_pixels=args.max_pixels, prompt=args.prompt, length=args.length, log=log)
    if args.json:
        print(json.dumps({"out": str(out), **summary}, indent=2, default=str))
    else:
        _print_summary(summary, out)
    return 0


def _print_summary(summary: dict, out) -> None:
    overall = summary.get("overall")
    if overall:
        print(f"all records: Se {overall['sensitivity']:.4f}, +P {overall['ppv']:.4f}, F1 {overall['f1']:.4f} "
              f"(TP {overall['tp']}, FP {overall['fp']}, FN {overall['fn']})")
    if "mean_dice" in summary:
        print(f"mean Dice {summary['mean_dice']:.4f}, mean IoU {summary['mean_iou']:.4f}")
    print(f"results in {out}")
