"""One module per lecture, each with `run(c: dlcc.lectures.Companion)`; see companion.py."""
