"""Small helpers every layer may use: seeding, device choice, run directories, JSON/YAML io."""

from dlcc.utils.device import choose_device
from dlcc.utils.rundir import make_run_dir
from dlcc.utils.seed import seed_everything

__all__ = ["choose_device", "make_run_dir", "seed_everything"]
