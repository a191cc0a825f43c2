"""`dlcc run RECIPE --nproc N [--nnodes M --node-rank R --master ADDR:PORT]`: start the run
under torchrun, one process per device, and report what happened to them.

The launcher checks everything it can before starting anything (the config, the recipe, the
rendezvous address), makes the run directory and config.yaml once (on node 0), then runs

    python -m torch.distributed.run --nproc-per-node N --nnodes M --node-rank R \
        --master-addr ADDR --master-port PORT -m dlcc run RECIPE --out DIR ...

Every worker trains through the run helper (`dlcc.train.distributed`); rank 0 writes the files.
When a worker fails, torchrun stops the others; the launcher then names the failure - the
worker's own error message when it was a `DlccError` (a bad setting found after the data
loaded), else the exit status - and says how to resume from the last checkpoint.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dlcc.errors import ConfigError, DlccError

ERROR_FILE = "DLCC_ERROR_FILE"      # workers write their DlccError here as JSON
RUN_DIR = "DLCC_RUN_DIR"            # the run directory the launcher prepared


class RunFailed(DlccError):
    """A training process failed (not a bad input): exit status 1."""

    exit_code = 1


@dataclass
class Topology:
    nproc: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master: str | None = None          # "ADDR:PORT"; default 127.0.0.1 and a free port on one node

    @property
    def distributed(self) -> bool:
        return self.nproc > 1 or self.nnodes > 1

    def check_counts(self) -> None:
        """Process and node counts that make sense (checked for every run, even of one process)."""
        if self.nproc < 1:
            raise ConfigError(f"--nproc {self.nproc}: the number of processes per node must be >= 1",
                              fix="e.g. --nproc 2 (one per GPU, or per core group on a CPU)")
        if self.nnodes < 1 or not 0 <= self.node_rank < self.nnodes:
            raise ConfigError(f"--nnodes {self.nnodes} --node-rank {self.node_rank}: node ranks go from 0 to "
                              f"{self.nnodes - 1}", fix="give each node its own --node-rank, 0 on the master node")
        if self.nnodes > 1 and not self.master:
            raise ConfigError(f"--nnodes {self.nnodes} needs --master ADDR:PORT, the rendezvous address of node 0",
                              fix="e.g. --master node001:29500 on every node")

    def check(self) -> tuple[str, int]:
        """(address, port) of the rendezvous, after checking what can be checked before starting."""
        self.check_counts()
        address, port = _split(self.master) if self.master else ("127.0.0.1", _free_port())
        try:
            socket.getaddrinfo(address, port)
        except socket.gaierror:
            raise ConfigError(f"--master {address}:{port}: the address {address!r} cannot be resolved",
                              fix="use the master node's hostname or IP address as the other nodes see it") from None
        if self.node_rank == 0 and self.master:
            _check_port_free(address, port)
        elif self.node_rank > 0:
            _wait_for_master(address, port)
        return address, port


def _split(master: str) -> tuple[str, int]:
    address, _, port = master.rpartition(":")
    if not address or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--master {master!r} is not ADDR:PORT", fix="e.g. --master 10.0.0.1:29500")
    return address, int(port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_port_free(address: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("" if address not in ("127.0.0.1", "localhost") else address, port))
        except OSError as exc:
            raise ConfigError(f"--master {address}:{port}: port {port} cannot be used here ({exc.strerror})",
                              fix="pick a free port, e.g. --master ADDR:29501") from None


def _wait_for_master(address: str, port: int, timeout_s: float = 60.0) -> None:
    """On nodes other than 0: the master must answer within `timeout_s` (no endless hang)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((address, port), timeout=2.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise ConfigError(f"--master {address}:{port} does not answer after {timeout_s:.0f} s ({exc})",
                                  fix="start node 0 first, and check the address, the port and the firewall") from None
            time.sleep(1.0)


def launch(argv: list[str], topology: Topology, out_dir: Path | None) -> int:
    """Run `dlcc run` with `argv` (no launcher flags, `--out` included) under torchrun; returns 0,
    or raises `ConfigError` (a worker's bad input) / `RunFailed` (a worker died)."""
    address, port = topology.check()
    with tempfile.TemporaryDirectory(prefix="dlcc-launch-") as tmp:
        env = {**os.environ, ERROR_FILE: str(Path(tmp) / "error.json"), "OMP_NUM_THREADS":
               os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // topology.nproc)))}
        if out_dir is not None:
            env[RUN_DIR] = str(out_dir)
        cmd = [sys.executable, "-m", "dlcc.recipes.torchrun", "--nproc-per-node", str(topology.nproc),
               "--nnodes", str(topology.nnodes), "--node-rank", str(topology.node_rank),
               "--master-addr", address, "--master-port", str(port), "-m", "dlcc", "run", *argv]
        code = subprocess.run(cmd, env=env).returncode
        if code == 0:
            return 0
        error = _worker_error(Path(tmp))
    if error is not None:
        raise ConfigError(error["message"], fix=error.get("fix"))
    where = f"; its last checkpoint is in {out_dir / 'checkpoints'}" if out_dir is not None else ""
    resume = f"dlcc run --resume --out {out_dir} --nproc {topology.nproc}" if out_dir is not None else "dlcc run --resume"
    raise RunFailed(f"a training process failed (torchrun exit status {code}); the others were stopped{where}",
                    fix=f"see the messages above; continue with `{resume}`")


def _worker_error(folder: Path) -> dict | None:
    path = folder / "error.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def record_worker_error(exc: DlccError) -> bool:
    """In a worker: leave a `DlccError` for the launcher (the first one wins). True when the
    launcher will report it (this rank's or another rank's error is in the file)."""
    path = os.environ.get(ERROR_FILE)
    if not path:
        return False
    if Path(path).exists():
        return True
    try:
        Path(path).write_text(json.dumps({"message": exc.message, "fix": exc.fix}), encoding="utf-8")
    except OSError:
        return False
    return True
