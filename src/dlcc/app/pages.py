"""The app's pages, laid out with Streamlit. Only layout here: what is computed comes from
`dlcc.app.{sources,uploads,classify,segment,ecg,live}`.

Every expected failure (a bad upload, a model of another task, a runs folder that does not
exist) is a `DlccError`, shown with `st.error` where it happened; the rest of the page and the
app keep working. Anything else is a bug: shown as one line on the page, the traceback goes
to the server's console.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from pathlib import Path

import numpy as np
import streamlit as st

from dlcc.errors import DlccError

TITLE = "dlcc model app"
MAX_FILES = 16                     # uploads shown per page run (each is a prediction)
RUNS_ENV, UPLOAD_ENV = "DLCC_APP_RUNS", "DLCC_APP_MAX_UPLOAD_MB"


def show_error(exc: BaseException) -> None:
    if isinstance(exc, DlccError):
        st.error(exc.message + (f"  \nfix: {exc.fix}" if exc.fix else ""))
    else:
        traceback.print_exc()
        st.error(f"unexpected error ({type(exc).__name__}): {str(exc).splitlines()[0][:300] if str(exc) else ''} "
                 "- this is a bug in dlcc; the server console has the details")


def upload_limit_mb() -> float:
    from dlcc.app.uploads import MAX_UPLOAD_MB

    try:
        return float(os.environ.get(UPLOAD_ENV, MAX_UPLOAD_MB))
    except ValueError:
        return float(MAX_UPLOAD_MB)


# ------------------------------------------------------------------------------ choosing a model
@st.cache_resource(max_entries=4, show_spinner="opening the model ...")
def _open_cached(ref: str, kind: str, stamp: float):
    from dlcc.app.sources import ModelChoice, open_choice

    return open_choice(ModelChoice(ref, ref, kind))


def _stamp(ref: str, kind: str) -> float:
    """Changes when the run or file changes, so a retrained run is opened again."""
    path = Path(ref)
    for candidate in (path / "model.pt", path / "metrics.json", path):
        if kind != "shipped" and candidate.exists():
            return candidate.stat().st_mtime
    return 0.0


def sidebar_runs() -> Path | None:
    """The runs folder from the sidebar (default: `dlcc app --runs`, else ./runs)."""
    from dlcc.app.sources import check_runs_dir

    default = os.environ.get(RUNS_ENV) or "runs"
    text = st.sidebar.text_input("runs folder", value=default, key="runs",
                                 help="a folder of run directories (`dlcc run --out`) and exported models")
    try:
        return check_runs_dir(text)
    except DlccError as exc:
        if text == "runs" and not os.environ.get(RUNS_ENV):
            st.sidebar.info("no ./runs folder here: choose a folder of runs, or use the shipped ECG model")
        else:
            st.sidebar.error(str(exc.message) + f"  \nfix: {exc.fix}")
        return None


def choose_model(runs: Path | None, task: str, key: str):
    """A model chooser (this task's models first); returns the opened model, or None."""
    from dlcc.app.sources import find_models, open_path, require_task

    other = "another run directory or exported file ..."
    choices = find_models(runs, shipped=task == "ecg-rpeak")
    # stable sort: this task's runs first, then exports (task known once opened), then the rest; newest first
    choices.sort(key=lambda c: 0 if c.task == task else 1 if c.task is None else 2)
    if not any(c.task in (task, None) for c in choices):        # None: an export, its task known once opened
        st.warning(f"no {task} run in {runs or 'the runs folder'}: train one with `dlcc run`, "
                   "or give a run directory or exported model below")
    labels = [c.label for c in choices] + [other]
    picked = st.selectbox("model", labels, key=f"{key}-model")
    if picked == other:
        text = st.text_input("run directory or exported model (.onnx / TorchScript .pt)", key=f"{key}-path")
        if not text:
            return None
        choice = open_path(text)
    else:
        choice = choices[labels.index(picked)]
    model = _open_cached(choice.ref, choice.kind, _stamp(choice.ref, choice.kind))
    require_task(model, task)
    scores = {k: v for k, v in (model.metrics or {}).items() if k.startswith("test_") and isinstance(v, float)}
    st.caption(f"{model.name}: recipe {model.recipe}" + "".join(f", {k} {v:.4f}" for k, v in list(scores.items())[:3]))
    return model


def _uploads(label: str, key: str, help: str) -> list:
    files = st.file_uploader(label, accept_multiple_files=True, key=key, help=help) or []
    if len(files) > MAX_FILES:
        st.warning(f"{len(files)} files uploaded: showing the first {MAX_FILES}")
    return files[:MAX_FILES]


# ------------------------------------------------------------------------------ pages
def classify_page(runs: Path | None) -> None:
    import pandas as pd

    from dlcc.app.classify import classify_image, classify_vectors, image_spec
    from dlcc.app.uploads import IMAGE_SUFFIXES, read_image_upload, read_vectors_upload

    st.header("Classify images")
    model = choose_model(runs, "classification", "classify")
    if model is None:
        return
    spec = image_spec(model)
    vectors = len(spec.shape) == 1
    kinds = "rows of numbers (.npy, .csv)" if vectors else f"images ({', '.join(s[1:] for s in IMAGE_SUFFIXES)})"
    saliency = not vectors and st.checkbox("saliency overlay (which pixels the top class rests on)", value=True,
                                           key="classify-saliency")
    files = _uploads(f"upload {kinds}", "classify-upload", f"at most {upload_limit_mb():g} MB each")
    if not files:
        st.info(f"upload {kinds} to classify them with {model.name}")
        return
    for f in files:
        with st.container(border=True):
            st.subheader(f.name)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    if vectors:
                        results = classify_vectors(model, read_vectors_upload(
                            f.name, f.getvalue(), Path(tmp), spec.shape[0], max_mb=upload_limit_mb()))
                    else:
                        pixels = read_image_upload(f.name, f.getvalue(), Path(tmp), max_mb=upload_limit_mb())
                        results = [classify_image(model, pixels, saliency=saliency)]
            except Exception as exc:   # DlccError: bad upload; others: shown, page keeps serving
                show_error(exc)
                continue
            for i, r in enumerate(results[:MAX_FILES]):
                st.success(f"prediction: {r.top} ({r.probability:.1%})" + (f" - row {i}" if vectors else ""))
                left, right = st.columns(2)
                left.bar_chart(pd.DataFrame({"probability": r.probabilities}), horizontal=True)
                if r.overlay is not None:
                    right.image(r.overlay, caption=f"{r.method} map for class {r.top}")
                elif saliency:
                    right.caption("no saliency map for a NumPy model")


def segment_page(runs: Path | None) -> None:
    from PIL import Image

    from dlcc.app.segment import segment_image
    from dlcc.app.uploads import IMAGE_SUFFIXES, read_image_upload

    st.header("Segment microscopy")
    model = choose_model(runs, "segmentation", "segment")
    if model is None:
        return
    files = _uploads(f"upload microscopy images ({', '.join(s[1:] for s in IMAGE_SUFFIXES)})", "segment-upload",
                     f"at most {upload_limit_mb():g} MB each; any size, predicted in tiles")
    if not files:
        st.info(f"upload microscopy images to segment them with {model.name}")
        return
    for f in files:
        with st.container(border=True):
            st.subheader(f.name)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    pixels = read_image_upload(f.name, f.getvalue(), Path(tmp), max_mb=upload_limit_mb())
                with st.spinner("predicting ..."):
                    result = segment_image(model, pixels)
            except Exception as exc:
                show_error(exc)
                continue
            st.success(f"mask: {result.foreground:.1%} of the pixels are foreground "
                       f"(threshold {result.threshold:.2f})")
            st.image(result.overlay, caption="mask in red, its outline in yellow", clamp=True)
            import io

            buf = io.BytesIO()
            Image.fromarray((result.mask * 255).astype(np.uint8)).save(buf, format="PNG")
            st.download_button("download the mask (PNG)", buf.getvalue(), f"{Path(f.name).stem}_mask.png",
                               mime="image/png", key=f"mask-{f.file_id}")


def ecg_page(runs: Path | None) -> None:
    import pandas as pd

    from dlcc.app.ecg import KEPT_SECONDS, PLOT_SECONDS, detect_peaks, recording_of
    from dlcc.app.uploads import (
        RECORDING_SUFFIXES,
        as_uploaded,
        check_upload,
        save_uploads,
    )

    st.header("ECG R peaks")
    model = choose_model(runs, "ecg-rpeak", "ecg")
    if model is None:
        return
    fs = st.number_input("sampling rate (Hz) of a .csv / .npy that states none (0: the file says)", min_value=0.0,
                         max_value=20000.0, value=0.0, step=1.0, key="ecg-fs")
    files = st.file_uploader("upload one recording: WFDB .hea + .dat together, .csv, .npy or .edf",
                             accept_multiple_files=True, key="ecg-upload",
                             help=f"at most {upload_limit_mb():g} MB each")
    if not files:
        st.info(f"upload a recording to find its R peaks with {model.name}")
        return
    try:
        for f in files:
            check_upload(f.name, f.getvalue(), RECORDING_SUFFIXES, upload_limit_mb())
        with tempfile.TemporaryDirectory() as tmp, st.spinner("detecting R peaks ..."):
            try:
                path = recording_of(save_uploads([(f.name, f.getvalue()) for f in files], Path(tmp)))
                result = detect_peaks(model, path, fs=fs or None)
            except DlccError as exc:
                raise as_uploaded(exc, Path(tmp), {"pass it, e.g. --fs": "set the sampling rate above, e.g.",
                                                   "--fs": "the sampling rate"}) from None
    except Exception as exc:
        show_error(exc)
        return
    st.success(f"{len(result.peaks_s)} R peaks in {result.duration_s:.1f} s, "
               f"mean heart rate {result.mean_hr_bpm:.0f} bpm")
    a, b, c = st.columns(3)
    a.metric("R peaks", len(result.peaks_s))
    b.metric("mean heart rate (bpm)", f"{result.mean_hr_bpm:.0f}")
    c.metric("leads used", "+".join(result.leads))
    kept = min(result.duration_s, KEPT_SECONDS)
    start = 0.0
    if kept > PLOT_SECONDS:
        start = st.slider("plot from (s)", 0.0, float(kept - PLOT_SECONDS), 0.0, 1.0, key="ecg-start")
    st.pyplot(result.figure(start))
    rows = pd.DataFrame(result.table())
    if len(rows) > 1:
        st.line_chart(rows.dropna().set_index("time_s")["hr_bpm"], x_label="time (s)", y_label="heart rate (bpm)")
    st.download_button("download the R peaks (CSV)", rows.to_csv(index=False), f"{result.name}_rpeaks.csv",
                       mime="text/csv", key="ecg-download")
    st.dataframe(rows, height=240)


def train_page(runs: Path | None) -> None:
    import pandas as pd

    from dlcc.app.live import LIVE_RECIPES, MAX_EPOCHS, live_settings, train_live

    st.header("Train live")
    recipe = st.selectbox("recipe", list(LIVE_RECIPES), format_func=lambda r: f"{r}: {LIVE_RECIPES[r]}",
                          key="train-recipe")
    epochs = st.slider("epochs", 1, MAX_EPOCHS, 5, key="train-epochs")
    where = runs or Path("runs")
    st.caption(f"the run is saved in {where}/ and can be used on the other pages afterwards")
    if not st.button("Train", key="train-go"):
        return
    bar = st.progress(0.0, text="starting ...")
    status = st.empty()
    losses, accuracies = st.empty(), st.empty()
    history: list[dict] = []

    def on_row(row: dict, done: float) -> None:
        history.append(row)
        frame = pd.DataFrame(history).set_index("epoch")
        bar.progress(done, text=f"epoch {row['epoch']}/{epochs}")
        losses.line_chart(frame[[k for k in ("train_loss", "val_loss") if k in frame]], y_label="loss")
        acc = [k for k in ("train_accuracy", "val_accuracy") if k in frame]
        if acc:
            accuracies.line_chart(frame[acc], y_label="accuracy")

    def on_step(step: int, loss: float) -> None:
        status.caption(f"step {step}: loss {loss:.4f}")

    try:
        run_dir, metrics = train_live(recipe, live_settings(recipe, epochs), where, on_row=on_row, on_step=on_step)
    except Exception as exc:
        show_error(exc)
        return
    bar.progress(1.0, text="done")
    score = metrics.get("test_accuracy")
    st.success(f"trained {run_dir.name}" + (f": test accuracy {score:.3f}" if score is not None else ""))


PAGES = {"Classify images": classify_page, "Segment microscopy": segment_page, "ECG R peaks": ecg_page,
         "Train live": train_page}


def main() -> None:
    st.set_page_config(page_title=TITLE, layout="wide")
    st.title(TITLE)
    page = st.sidebar.radio("page", list(PAGES), key="page")
    runs = sidebar_runs()
    try:
        PAGES[page](runs)
    except Exception as exc:   # a model that cannot be opened, of another task, ...: the app keeps serving
        show_error(exc)
