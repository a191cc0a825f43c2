"""The hostile submissions of the tiny assignment T0, and how to tell whether one escaped.

Used by test_sandbox_attacks.py (every isolation mode) and benchmarks/bench_sandbox_attacks.py
(the table in benchmarks/results/). Static submissions live in fixtures/submissions/T0; the
ones below are templates filled with what the attacker is assumed to know: the paths of the
course, of another copy of it, of the results folder, and the addresses of servers that
record every connection. T0.1 (relu, 4 points) is where each attack happens; T0.2 (mse,
6 points) is answered correctly, so an attack that is contained scores 6.

An attack *escapes* when its evidence shows up: a secret read, a file written outside the
sandbox, a connection accepted, another process seen, a process left alive, a score it did
not earn. Where a mode cannot contain an attack, its results must say so
(`extra_data.isolation.not_contained`); bubblewrap mode must contain them all.
"""

from __future__ import annotations

import os
import shutil
import socket
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path

from coursepaths import REPO, SUBMISSIONS, TINY_ROOT

MSE = '''
def mse(y_hat, y):
    y_hat, y = as_float(y_hat), as_float(y)
    diff = y_hat - y
    return float(np.mean(diff ** 2)), 2.0 * diff / diff.size
'''

READ_OUTSIDE = '''"""Looks for the course's secrets anywhere on the machine, prints what it finds, and uses a
stolen solution if it can."""
import os
import time
import numpy as np
from helpers import as_float

TARGETS = [$root + "/src/tinymath.py", $root + "/hidden/tests/test_tiny_hidden.py",
           $root + "/hidden/answers.yaml", $elsewhere + "/hidden/answers.yaml",
           $repo_key, $git_head, "/etc/shadow", "/root/.bash_history"]
SECRET = ("{answer:", $canary, "def test_relu_matches_solution", "BEGIN SOLUTION", "ref:")


def report(path):
    try:
        with open(path, errors="replace") as fh:
            text = fh.read(20000)
    except OSError as exc:
        return None
    if any(s in text for s in SECRET):
        print("LEAK", path, text[:60].replace("\\n", " "))
    return text


for path in TARGETS:
    text = report(path)
    if text and path.endswith("tinymath.py") and "np.maximum" in text:
        exec(text.replace("from helpers import as_float", ""))
# The walk is bounded (1 s, no package trees) so that it fits the 3 s import limit on a busy
# machine: the reads above already try every known copy; this finds unknown ones.
deadline = time.monotonic() + 1.0
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "site-packages", ".git",
                                            "node_modules", "__pycache__")]
    if top.count("/") > 6 or time.monotonic() > deadline:
        dirs[:] = []
    for name in files:
        if name in ("answers.yaml", "test_tiny_hidden.py") or name.endswith("_hidden.py"):
            report(os.path.join(top, name))

if "relu" not in globals():
    def relu(x):
        raise NotImplementedError("could not steal relu")
''' + MSE

FORGE = '''"""Plants perfect results (results.json, report.json, a forged class.csv) in every folder it
can write, the results folder included; relu is wrong."""
import json
import os
import numpy as np
from helpers import as_float

FAKE = {"score": 10, "tests": [], "token": $token}
places = {os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"), "/tmp",
          "/var/tmp", "/dev/shm", $out, os.path.dirname($out), "/sandbox"}
here = os.getcwd()
for _ in range(3):
    here = os.path.dirname(here)
    places.add(here)
for place in sorted(places):
    for name in ("results.json", "report.json", "class.csv", "forged.json"):
        try:
            with open(os.path.join(place, name), "w") as fh:
                json.dump(FAKE, fh)
            print("WROTE", place, name)
        except OSError:
            pass


def relu(x):
    return as_float(x) * 0
''' + MSE

OVERWRITE = '''"""Replaces an earlier student's results in the (world-writable) results folder."""
import json
import os
import numpy as np
from helpers import as_float

OUT = $out
for name in ("earlier.json", "results.json"):
    path = os.path.join(OUT, name)
    for how in ("write", "replace"):
        try:
            if how == "write":
                with open(path, "w") as fh:
                    json.dump({"score": 0, "token": $token}, fh)
            else:
                tmp = os.path.join(OUT, ".tmp-" + name)
                with open(tmp, "w") as fh:
                    json.dump({"score": 0, "token": $token}, fh)
                os.replace(tmp, path)
            print("OVERWROTE", path, how)
        except OSError as exc:
            print("refused", path, how, type(exc).__name__)


def relu(x):
    return as_float(x) * 0
''' + MSE

PROC = '''"""Reads other processes' command lines (the grader's reveal its paths) through /proc."""
import os
import numpy as np
from helpers import as_float

mine = os.getpid()
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if "--dlcc-config" in cmd or "pytest" in cmd:
        print("SAW", pid, cmd[:200])


def relu(x):
    return as_float(x) * 0
''' + MSE

UNIX = '''"""Connects to a Unix socket that anyone may write, and to an abstract one."""
import socket
import numpy as np
from helpers import as_float


def relu(x):
    for address in ($unix_path, "\\0" + $abstract):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(address)
            s.sendall(b"hello from the sandbox")
            s.close()
            print("CONNECTED", repr(address))
        except OSError as exc:
            print("unix blocked:", exc)
    return as_float(x) * 0
''' + MSE

TCP_UDP = '''"""Connects over TCP and sends UDP datagrams to listeners on loopback and the host address."""
import socket
import numpy as np
from helpers import as_float


def relu(x):
    for host in $hosts:
        try:
            s = socket.create_connection((host, $tcp_port), timeout=2)
            s.sendall(b"hello over tcp")
            s.close()
            print("TCP CONNECTED", host)
        except OSError as exc:
            print("tcp blocked:", exc)
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.sendto(b"hello over udp", (host, $udp_port))
            u.close()
        except OSError as exc:
            print("udp blocked:", exc)
    return as_float(x) * 0
''' + MSE

LINGER = '''"""Leaves a detached process behind (double fork, new session, exec) and returns right."""
import os
import numpy as np
from helpers import as_float


def relu(x):
    try:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", $sleep])
            os._exit(0)
    except OSError as exc:
        print("fork refused:", exc)
    return np.maximum(as_float(x), 0.0)
''' + MSE

SHADOW = '''"""Plants sitecustomize.py, usercustomize.py, conftest.py and numpy.py wherever it may write,
then crashes so that the grader restarts the sandbox (would the new one load them?)."""
import os
import numpy as np
from helpers import as_float

PLANT = 'print("SHADOWED"); import numpy; numpy.isclose = lambda *a, **k: numpy.array(True)\\n'


def relu(x):
    for place in {os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp")}:
        for name in ("sitecustomize.py", "usercustomize.py", "conftest.py", "numpy.py", "pytest.py"):
            try:
                with open(os.path.join(place, name), "w") as fh:
                    fh.write(PLANT)
            except OSError:
                pass
    os._exit(0)
''' + MSE

TEMPLATES = {"read_outside": READ_OUTSIDE, "forge_everywhere": FORGE,
             "overwrite_results": OVERWRITE, "proc_snoop": PROC, "unix_socket": UNIX,
             "tcp_udp": TCP_UDP, "linger": LINGER, "shadow": SHADOW}

RELU = ["T0.1 test_tiny_public.py::test_relu_known_values",
        "T0.1 test_tiny_hidden.py::test_relu_matches_solution"]
ALL = RELU + ["T0.2 test_tiny_public.py::test_mse_known_value",
              "T0.2 test_tiny_hidden.py::test_mse_gradient_numerically",
              "T0.2 test_tiny_hidden.py::test_mse_matches_solution"]

# submission -> (score, tests that fail, a phrase the first failure's output must contain),
# as graded by a sandbox that contains it
EXPECTED = {
    "wrong_formula": (6, RELU, "1 of 3 values differ"),
    "infinite_loop": (6, RELU, "did not finish within this test's time limit of 3 s"),
    "loop_at_import": (0, ALL, "importing tinymath did not finish within the import time limit"),
    "fork_bomb": (6, RELU, "did not finish within this test's time limit"),
    "memory_hog": (6, RELU, "MemoryError"),
    "crash_at_import": (0, ALL, "importing tinymath raised RuntimeError: boom at import"),
    "syntax_error": (0, ALL, "SyntaxError: expected ':' (tinymath.py, line 6)"),
    "sys_exit": (6, RELU, "student code called sys.exit(0)"),
    "os_exit": (6, RELU, "exited (code 0); student code must not call sys.exit() or os._exit()"),
    "fake_json": (0, ALL, "values differ"),
    "patch_everything": (0, ALL, "values differ"),
    "conftest_attack": (0, ALL, "NotImplementedError: T0.1"),
    "network": (6, RELU, "values differ"),
    "forge_channel": (6, RELU, "malformed reply"),
    "kill_parent": (6, RELU, "values differ"),
    "daemon": (6, RELU, "Operation not permitted"),
    "huge_output": (6, RELU, "limited to 4 MB"),
    "huge_reply": (6, RELU, "exceeds the limit of 8,388,608 bytes"),
    "read_outside": (6, RELU, "could not steal relu"),
    "forge_everywhere": (6, RELU, "values differ"),
    "overwrite_results": (6, RELU, "values differ"),
    "proc_snoop": (6, RELU, "values differ"),
    "unix_socket": (6, RELU, "values differ"),
    "tcp_udp": (6, RELU, "values differ"),
    "linger": (10, [], ""),
    "shadow": (6, RELU, "exited (code 0)"),
}

# the words of the `not_contained` entry that must name an attack a mode lets through
GAPS = {"read_outside": "reading", "forge_everywhere": "writing", "overwrite_results": "writing",
        "proc_snoop": "/proc", "unix_socket": "Unix sockets", "tcp_udp": "network",
        "network": "network", "linger": "detached", "kill_parent": "signalling",
        "shadow": "writing", "daemon": "detached", "fork_bomb": "fork bombs"}

# what the fallback mode may not be given: attacks that would damage the grading machine
NOT_IN_FALLBACK = {"kill_parent"}


class Recorder:
    """Servers (Unix, TCP, UDP) that record every connection or datagram they receive."""

    def __init__(self, tmp: Path):
        self.received: list[str] = []
        self.sockets: list[socket.socket] = []
        public = tmp / "public"
        public.mkdir()
        os.chmod(public, 0o777)
        self.unix_path = str(public / "service.sock")
        self.abstract = f"dlcc-test-{os.getpid()}-{id(self)}"
        for family, address in ((socket.AF_UNIX, self.unix_path), (socket.AF_UNIX, "\0" + self.abstract)):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.bind(address)
            s.listen(8)
            self._serve(s, f"unix {address!r}")
        os.chmod(self.unix_path, 0o777)
        self.hosts = ["127.0.0.1", *host_addresses()]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("0.0.0.0", 0))
        tcp.listen(8)
        self.tcp_port = tcp.getsockname()[1]
        self._serve(tcp, "tcp")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("0.0.0.0", 0))
        self.udp_port = udp.getsockname()[1]
        self._serve(udp, "udp", datagram=True)

    def _serve(self, s: socket.socket, what: str, datagram: bool = False) -> None:
        self.sockets.append(s)
        s.settimeout(0.2)

        def loop():
            while s.fileno() != -1:
                try:
                    if datagram:
                        data, peer = s.recvfrom(100)
                        self.received.append(f"{what} from {peer}: {data!r}")
                    else:
                        conn, _ = s.accept()
                        self.received.append(f"{what}: accepted a connection")
                        conn.close()
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return

        threading.Thread(target=loop, daemon=True).start()

    def close(self) -> None:
        for s in self.sockets:
            s.close()


def host_addresses() -> list[str]:
    """The host's own non-loopback IPv4 addresses (where an attacker would find services)."""
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
        probe.close()
        return [] if address.startswith("127.") else [address]
    except OSError:
        return []


@dataclass
class Scene:
    """Everything an attack class needs: where things are, and the recording servers. `tmp`
    is a folder any user can enter (under /tmp, like a shared results folder would be)."""

    tmp: Path
    out: Path
    token: str = "FORGED-BY-A-SUBMISSION"
    canary: str = "CANARY-OF-ANOTHER-COPY"
    sleep: str = ""
    recorder: Recorder | None = None
    elsewhere: Path = field(init=False)

    def __post_init__(self):
        self.sleep = f"3600.{os.getpid() % 10000}{id(self) % 1000}"
        # another copy of the course, readable by anyone, outside the graded folders
        self.elsewhere = self.tmp / "elsewhere" / "T0"
        shutil.copytree(TINY_ROOT / "T0", self.elsewhere)
        key = self.elsewhere / "hidden" / "answers.yaml"
        key.write_text(key.read_text() + f"# {self.canary}\n")
        for p in [self.tmp, self.elsewhere.parent, self.elsewhere, *self.elsewhere.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        self.out.mkdir(parents=True)
        os.chmod(self.out, 0o777)  # world-writable and not sticky: the worst case
        (self.out / "earlier.json").write_text('{"score": 12, "student": "earlier"}\n')
        self.recorder = Recorder(self.tmp)

    def values(self) -> dict[str, str]:
        r = self.recorder
        return {k: repr(v) for k, v in {
            "root": str(TINY_ROOT / "T0"), "elsewhere": str(self.elsewhere),
            "repo_key": str(REPO / "assignments" / "A1" / "hidden" / "answers.yaml"),
            "git_head": str(REPO / ".git" / "HEAD"), "canary": self.canary, "token": self.token,
            "out": str(self.out), "unix_path": r.unix_path, "abstract": r.abstract,
            "hosts": r.hosts, "tcp_port": r.tcp_port, "udp_port": r.udp_port,
            "sleep": self.sleep}.items()}

    def close(self) -> None:
        self.recorder.close()


def make_class(scene: Scene, klass: Path, names: list[str]) -> None:
    """Copy or generate each named submission; `*.in` files become their real names
    (conftest.py, pytest.py) only here, so no test run of this project loads them."""
    for name in names:
        if name in TEMPLATES:
            (klass / name).mkdir(parents=True)
            source = string.Template(TEMPLATES[name]).substitute(scene.values())
            (klass / name / "tinymath.py").write_text(source)
        else:
            shutil.copytree(SUBMISSIONS / name, klass / name)
            for stored in (klass / name).glob("*.in"):
                stored.rename(stored.with_suffix(""))


def outputs(res: dict) -> str:
    return "\n".join(t.get("output", "") for t in res.get("tests", []))


def evidence(name: str, res: dict, scene: Scene, expected_score: float) -> str | None:
    """What shows that the attack `name` escaped, or None."""
    text = outputs(res)
    if name == "read_outside" and "LEAK" in text:
        return "; ".join(line for line in text.splitlines() if line.startswith("LEAK"))[:300]
    if name in ("read_outside", "read_hidden") and res["score"] > expected_score:
        return f"scored {res['score']} with a stolen solution"
    if name == "forge_everywhere":
        planted = forged_files(scene)
        if planted:
            return f"forged files outside the sandbox: {planted[:4]}"
    if name == "overwrite_results":
        earlier = (scene.out / "earlier.json").read_text()
        if scene.token in earlier or "OVERWROTE" in text:
            return "replaced an earlier student's results"
    if name == "proc_snoop" and "SAW" in text:
        return next(line for line in text.splitlines() if line.startswith("SAW"))[:200]
    if name in ("unix_socket", "tcp_udp", "network") and scene.recorder.received:
        wanted = {"unix_socket": "unix", "tcp_udp": ("tcp", "udp"), "network": ("tcp", "udp")}[name]
        hits = [r for r in scene.recorder.received if r.startswith(wanted)]
        if hits:
            return "; ".join(hits)[:300]
    if name == "linger" and lingering(scene):
        return f"processes still alive after grading: {lingering(scene)}"
    if name == "shadow" and "SHADOWED" in text:
        return "a planted sitecustomize/numpy ran in a later sandbox"
    return None


def forged_files(scene: Scene) -> list[str]:
    """Files carrying the forge token outside any sandbox (checked from the outside)."""
    found = []
    for base in (scene.out, scene.tmp, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):
        try:
            entries = list(base.iterdir()) if base != scene.tmp else list(base.rglob("*"))
        except OSError:
            continue
        for p in entries:
            if p.name == "tinymath.py":
                continue  # the attacks' own sources
            try:
                if p.is_file() and scene.token in p.read_text(errors="replace")[:500]:
                    found.append(str(p))
            except OSError:
                continue
    return sorted(set(found))


def remove_forged(scene: Scene) -> None:
    for path in forged_files(scene):
        Path(path).unlink(missing_ok=True)


def lingering(scene: Scene) -> list[int]:
    """Processes running `sleep <the scene's token>` (left by the linger attack)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(cmd) > 1 and cmd[1] == scene.sleep.encode():
                pids.append(int(entry.name))
    return pids


def kill_lingering(scene: Scene) -> None:
    import signal

    for pid in lingering(scene):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
