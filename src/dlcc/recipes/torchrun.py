"""torchrun as `dlcc run --nproc` starts it: torch's launcher, minus its own traceback.

When a worker fails, torchrun raises `ChildFailedError` and prints a Python traceback of the
launcher itself. For a bad input (a worker's `DlccError`, left in the file named by
DLCC_ERROR_FILE) that traceback is noise: launch.py reports the worker's message and exits 2.
For any other failure torchrun's summary (which rank, which exit code) is printed, without the
launcher's stack.

    python -m dlcc.recipes.torchrun --nproc-per-node 2 ... -m dlcc run RECIPE ...
"""

from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # its "closing signal" and "failed (exitcode)" lines: the summary below, or the worker's message, says it
    logging.getLogger("torch.distributed.elastic.multiprocessing.api").setLevel(logging.CRITICAL)
    try:
        run(parse_args(argv if argv is not None else sys.argv[1:]))
    except ChildFailedError as exc:
        error_file = os.environ.get("DLCC_ERROR_FILE", "")
        if not (error_file and os.path.exists(error_file)):
            print(exc.format_msg(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
