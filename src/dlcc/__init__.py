"""dlcc: the Deep Learning Crash Course as software.

Layers (lower never import higher): utils, data -> scratch -> models, metrics -> train, track, tune
-> recipes, course -> cli.
"""

__version__ = "0.1.0"
