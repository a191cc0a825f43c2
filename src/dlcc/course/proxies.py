"""The `student` object that assignment tests use to reach the student's code.

Tests are written once and run two ways:

    def test_forward_shapes(student):
        mlp = student.module("a1_mlp_3_layers")
        loss, y_hat, params = mlp.forward_pass(x, y, params)   # values come back as copies
        data = student.module("util").load_data.keep()       # stays on the student side
        params, history = mlp.run_training(args, data)

* `LocalStudent` (`dlcc course test`, `dlcc course check`): imports the student's modules in the
  test process, so failures show real tracebacks. Arguments and results still go through the
  codec, so a test that passes here behaves the same under the grader.
* `RemoteStudent` (`dlcc course grade`): every call runs in the sandbox process and only the
  returned values come back; the assertions run here, where student code cannot reach them.

Rules for test authors: use return values (functions get copies, in-place changes are not
seen); values must be arrays, numbers, strings, lists, tuples, dicts or Namespaces; anything
else comes back as an opaque `Ref`, which can be passed to later calls or `student.fetch`ed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from dlcc.course.sandbox import codec
from dlcc.course.sandbox.client import SandboxClient


class _Function:
    def __init__(self, student, module: str, attr: str):
        self._student, self._module, self._attr = student, module, attr

    def __call__(self, *args, **kwargs):
        return self._student._call(self._module, self._attr, args, kwargs, keep=False)

    def keep(self, *args, **kwargs) -> codec.Ref:
        """Call, but leave the result on the student side and return a handle to it."""
        return self._student._call(self._module, self._attr, args, kwargs, keep=True)

    def __repr__(self) -> str:
        return f"<student function {self._module}.{self._attr}>"


class _Module:
    def __init__(self, student, name: str):
        self._student, self._name = student, name

    def __getattr__(self, attr: str) -> _Function:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Function(self._student, self._name, attr)

    def value(self, attr: str):
        """The value of a module-level variable (a constant, say)."""
        return self._student._getattr(self._name, attr)


class RemoteStudent:
    """Student code in the sandbox (grading)."""

    def __init__(self, client: SandboxClient):
        self._client = client

    def module(self, name: str) -> _Module:
        return _Module(self, name)

    def call(self, ref: codec.Ref, *args, **kwargs):
        """Call a remote callable that an earlier call returned as a Ref."""
        return self._client.call("", None, args, kwargs, ref=ref)

    def fetch(self, ref: codec.Ref):
        return self._client.fetch(ref)

    def _call(self, module, attr, args, kwargs, keep):
        return self._client.call(module, attr, args, kwargs, keep=keep)

    def _getattr(self, module, attr):
        return self._client.getattr(module, attr)


class LocalStudent:
    """Student code imported from `workdir` into this process (local runs)."""

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir).resolve()
        if str(self.workdir) not in sys.path:
            sys.path.insert(0, str(self.workdir))
        self._refs: dict[int, object] = {}

    def module(self, name: str) -> _Module:
        return _Module(self, name)

    def _import(self, name: str):
        path = self.workdir / f"{name}.py"
        if not path.is_file():
            raise ModuleNotFoundError(f"{name}.py is not in {self.workdir}")
        mod = sys.modules.get(name)
        if mod is not None and Path(getattr(mod, "__file__", "") or "").resolve() != path:
            del sys.modules[name]  # a same-named module from elsewhere must not shadow the student's
        return importlib.import_module(name)

    def _keep(self, value) -> codec.Ref:
        ref = codec.Ref(len(self._refs) + 1, type(value).__name__)
        self._refs[ref.id] = value
        return ref

    def _resolve(self, value):
        return codec.resolve(value, lambda ref: self._refs[ref.id])

    def _call(self, module, attr, args, kwargs, keep):
        fn = getattr(self._import(module), attr)
        return self._invoke(fn, args, kwargs, keep)

    def _invoke(self, fn, args, kwargs, keep):
        args = self._resolve(codec.roundtrip(list(args)))
        kwargs = self._resolve(codec.roundtrip(dict(kwargs)))
        result = fn(*args, **kwargs)
        return self._keep(result) if keep else codec.roundtrip(result, keep=self._keep)

    def call(self, ref: codec.Ref, *args, **kwargs):
        return self._invoke(self._refs[ref.id], args, kwargs, keep=False)

    def fetch(self, ref: codec.Ref):
        return codec.roundtrip(self._refs[ref.id])

    def _getattr(self, module, attr):
        return codec.roundtrip(getattr(self._import(module), attr), keep=self._keep)


class SolutionModules:
    """The instructor's solution, imported in the trusted harness (hidden tests only)."""

    def __init__(self, solution_dir: str | Path):
        self.dir = Path(solution_dir).resolve()
        if str(self.dir) not in sys.path:
            sys.path.insert(0, str(self.dir))

    def module(self, name: str):
        if not (self.dir / f"{name}.py").is_file():
            raise ModuleNotFoundError(f"{name}.py is not in the solution folder {self.dir}")
        return importlib.import_module(name)
