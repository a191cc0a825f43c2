"""Assignment 7, part 2: the same model on a web page (Streamlit).

    streamlit run a7_page_app.py -- MODEL_DIR      # a7_page_app.py (given) calls prediction_page

The page reuses your a7_api functions: what the endpoint refuses, the page refuses too, with a
message on the page (st.error), and the page keeps working for the next upload.

  A7.4  prediction_page: upload -> the predicted class and the probabilities, or an error

The tests drive the page with Streamlit's AppTest (the real script, no browser).
"""

from __future__ import annotations

import numpy as np
from a7_api import MAX_BYTES, InputError, predict_probabilities, preprocess, read_image
from a7_model import load_model


def cached_model(model_dir: str):
    """load_model once per server process (Streamlit re-runs the page script on every
    interaction; the model must not be loaded again each time)."""
    import streamlit as st

    @st.cache_resource
    def load(folder: str):
        return load_model(folder)

    return load(str(model_dir))


def prediction_page(model_dir: str, max_bytes: int = MAX_BYTES) -> None:
    """The page: a title, a file uploader (key "digit"), and for an uploaded file either

      * the prediction: st.metric("prediction", class name) and a bar chart of the
        probabilities of every class (st.bar_chart, one bar per class name), or
      * st.error(message) when the file is larger than max_bytes (the message says "larger")
        or read_image raises InputError (its message), and no prediction.

    An exception must never reach Streamlit (it would show a traceback to the user).
    """
    import pandas as pd
    import streamlit as st

    served = cached_model(model_dir)
    st.title("A7: which digit is it?")
    upload = st.file_uploader("A 28x28 grayscale image of a digit (PNG or JPEG)", key="digit")
    if upload is None:
        st.info("Upload an image to see the model's prediction.")
        return
    # TODO (A7.4): your code here
    # HINT: upload.getvalue() gives the file's bytes
    raise NotImplementedError("A7.4: this part of prediction_page() is not implemented yet")
