"""The script `streamlit run` executes for `dlcc app` (Streamlit reruns it on every
interaction; the pages are in dlcc.app.pages)."""

from dlcc.app.pages import main

main()
