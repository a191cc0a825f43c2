"""`dlcc predict`: a trained model on the user's own images and recordings.

    from dlcc.predict import predict
    summary = predict("runs/isbi-unet-20261204", ["my_images/"], out="masks/")
    summary = predict("ecg-rpeak", ["holter/r01.edf"], out="triggers/", shipped=True)
    summary = predict("runs/char-gpt-20261204", [], out="gen/", prompt="ROMEO:", length=300)

The model is a run directory, an exported model file (`dlcc export`) or a model dlcc ships
(`model.open_model`); its task picks what happens (`classify`, `segment`, `ecg`, `text`). The output
folder must be new or empty, so nothing already there - least of all the inputs - is
overwritten; it is removed again when predict fails before writing anything.
"""

from __future__ import annotations

from pathlib import Path

from dlcc.errors import ConfigError, DataError
from dlcc.predict.model import SHIPPED, PredictModel, open_model

__all__ = ["SHIPPED", "PredictModel", "open_model", "predict", "prepare_out"]

TASKS = ("classification", "segmentation", "ecg-rpeak", "language-model")
RECORDING_SUFFIXES = (".hea", ".dat", ".edf", ".bdf", ".atr")


def prepare_out(out: Path) -> bool:
    """Make `out` (True when it was created here); refuse a file or a folder that is not empty."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file", fix="choose a folder name for --out")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty; predict writes into a new or empty folder only, so that "
                          "nothing there is overwritten", fix="choose a new --out folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    return created


def _check_inputs(model: PredictModel, inputs: list[Path], prompt: str | None = None,
                  length: int | None = None) -> None:
    """Refuse inputs of another kind than the model's task takes, naming both."""
    if model.task != "language-model" and (prompt is not None or length is not None):
        option = "--prompt" if prompt is not None else "--length"
        raise ConfigError(f"{option} is for language models, but {model.name} is a {model.task} model "
                          f"(recipe {model.recipe})", fix=f"leave out {option}, or give a char-gpt / char-rnn run")
    if model.task == "language-model" and (prompt is not None or length is not None):
        from dlcc.predict.text import check_lm, check_prompt

        if prompt is None:
            raise ConfigError("--length needs --prompt (it is the number of characters generated after it)",
                              fix="e.g. --prompt 'ROMEO:' --length 300")
        check_lm(model)
        check_prompt(model, prompt, length)
        if not inputs:
            return
    if not inputs:
        fix = ("give text files, or --prompt TEXT to generate" if model.task == "language-model"
               else "name image or recording files or folders after the model")
        raise ConfigError("no inputs given", fix=fix)
    files = [p for p in inputs if p.is_file()]
    if model.task == "classification" and not model.artifacts.get("classes"):
        raise ConfigError(f"{model.source}: recipe {model.recipe!r} saved no class names, so it is not a "
                          "classifier predict can use", fix="predict with a run of a classification recipe")
    if model.task == "ecg-rpeak":
        images = [p for p in files if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")]
        if images:
            raise DataError(f"{images[0]} is an image, but {model.name} is an R-peak detector (recipe "
                            f"{model.recipe}): it takes ECG recordings (.hea, .csv, .npy, .edf)",
                            fix="give recordings, or an image model's run directory for images")
    elif model.task == "language-model":
        other = [p for p in files if p.suffix.lower() not in (".txt", ".md", "")]
        if other:
            raise DataError(f"{other[0]} is not a text file, but {model.name} is a character language model "
                            f"(recipe {model.recipe}): it takes .txt files", fix="give text files")
        from dlcc.predict.text import check_lm, text_files

        check_lm(model)
        text_files(inputs)
    else:
        signals = [p for p in files if p.suffix.lower() in RECORDING_SUFFIXES]
        if signals:
            raise DataError(f"{signals[0]} is an ECG recording, but {model.name} is a {model.task} model "
                            f"(recipe {model.recipe}): it takes images",
                            fix="predict recordings with an ecg-rpeak run or the shipped detector (--model ecg-rpeak)")


def predict(model_ref: str | Path, inputs: list[str | Path], out: str | Path, *, shipped: bool = False,
            fs: float | None = None, leads: list[str] | None = None, annotations: str | Path | None = None,
            masks: str | Path | None = None, mask_suffix: str = "", max_pixels: int | None = None,
            prompt: str | None = None, length: int | None = None, log=print) -> dict:
    """Run the model on `inputs` and write the results into `out`; returns the summary (also
    written as summary.json). See the module docstring and docs/predict.md."""
    import json

    from dlcc.predict.images import MAX_PIXELS

    model = open_model(model_ref, shipped=shipped)
    if model.task not in TASKS:
        raise ConfigError(f"{model.source}: predict does not handle {model.task} models (recipe {model.recipe})",
                          fix=f"predict runs {', '.join(TASKS)} models")
    paths = [Path(p) for p in inputs]
    _check_inputs(model, paths, prompt, length)
    out = Path(out)
    created = prepare_out(out)
    try:
        if model.task == "ecg-rpeak":
            from dlcc.predict.ecg import EcgOptions, predict_ecg

            ann = Path(annotations) if annotations else None
            summary = predict_ecg(model, paths, out, EcgOptions(fs=fs, leads=leads or None, annotations=ann), log=log)
        elif model.task == "segmentation":
            from dlcc.predict.segment import predict_masks

            summary = predict_masks(model, paths, out, max_pixels or MAX_PIXELS, Path(masks) if masks else None,
                                    mask_suffix, log=log)
        elif model.task == "language-model":
            from dlcc.predict.text import predict_texts

            summary = predict_texts(model, paths, out, prompt=prompt, length=length, log=log)
        else:
            from dlcc.predict.classify import predict_images

            summary = predict_images(model, paths, out, max_pixels or MAX_PIXELS, log=log)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return summary
