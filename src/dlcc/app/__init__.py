"""The web app (`dlcc app`): a trained run or an exported model, used through a browser.

Pages: classify images (class probabilities and a saliency overlay), segment microscopy
images (the U-Net's mask over the image), detect R peaks in an ECG recording (the trace with
its beats and the heart rate), and train a small model live (progress and curves).

What each page computes lives in plain functions here (`uploads`, `sources`, `classify`,
`segment`, `ecg`, `live`), tested without a browser; `pages.py` only lays them out with
Streamlit and `streamlit_app.py` is the script `streamlit run` executes. Models open through
`dlcc.predict.open_model`: run directories with `weights_only=True`, exports in onnxruntime or
TorchScript; nothing an upload contains is ever unpickled.
"""
