"""mkdocs hooks for the course site (see mkdocs.yml).

- on_files: run every lecture's companion in its quick setting (cached by content in
  `.cache/lectures`, or `$DLCC_DOCS_CACHE`) and add its PNGs to the site as
  `lectures/figures/<lecture id>/<name>.png`; add MathJax from the django-static-mathjax wheel
  as `assets/mathjax/`, so no page loads anything from another host.
- on_page_markdown: expand the markers a lecture page uses:
      <!-- dlcc:figure NAME -->   the companion's figure with its caption
      <!-- dlcc:output -->        what the companion printed
      <!-- dlcc:number KEY -->    one number the companion recorded (4 significant digits)
      <!-- dlcc:quiz -->          the lecture's practice questions, answers folded away
  A marker naming a figure or number the companion did not make fails the build.
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
from pathlib import Path

# Before torch is imported: OpenMP threads that spin while waiting make small models many
# times slower on a busy machine (see dlcc/cli.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

log = logging.getLogger("mkdocs.hooks.lecture_site")
MARKER = re.compile(r"<!--\s*dlcc:(figure|output|number|quiz)\s*([\w.-]*)\s*-->")
MATHJAX_PARTS = ("tex-svg-full.js", "input", "output/svg", "ui", "a11y", "adaptors")
_runs: dict[str, dict] = {}     # lecture id -> cached run (figures, captions, numbers, output)


def _cache_root(config) -> Path:
    if os.environ.get("DLCC_DOCS_CACHE"):
        return Path(os.environ["DLCC_DOCS_CACHE"])
    return Path(config.config_file_path).parent / ".cache" / "lectures"


def _mathjax_dir() -> Path:
    try:
        import mathjax
    except ImportError:
        raise PluginError("MathJax is missing: pip install -e '.[docs]' (it brings "
                          "django-static-mathjax, which the site serves math from)") from None
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def on_files(files, config):
    from dlcc.lectures import LECTURES
    from dlcc.lectures.cache import cached_run, load_cached

    root = _cache_root(config)
    for lecture in LECTURES:
        if not lecture.available:
            continue
        start = time.perf_counter()
        folder = cached_run(lecture, root, quick=True, stream=io.StringIO())
        run = load_cached(folder)
        # the run printed the cache folder it wrote to; show a reader's folder instead
        for written in (folder, folder.parent / f".{folder.name}.tmp"):
            run["output"] = run["output"].replace(str(written), f"runs/lecture-{lecture.id}")
        _runs[lecture.id] = run
        log.info("lecture %s: companion %s (%.1f s)", lecture.id,
                 "ran" if time.perf_counter() - start > 0.5 else "cached", run["seconds"])
        for fname in run["figures"].values():
            files.append(File.generated(config, f"lectures/figures/{lecture.id}/{fname}",
                                        abs_src_path=str(folder / fname)))
    base = _mathjax_dir()
    for part in MATHJAX_PARTS:
        src = base / part
        paths = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
        for path in paths:
            uri = f"assets/mathjax/{path.relative_to(base).as_posix()}"
            if part == "tex-svg-full.js":
                uri = "assets/mathjax/tex-svg.js"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def _lecture_for(page):
    from dlcc.lectures import LECTURES

    return next((lec for lec in LECTURES if lec.page == page.file.src_uri), None)


def on_page_markdown(markdown, page, config, files):
    if not MARKER.search(markdown):
        return markdown
    lecture = _lecture_for(page)
    if lecture is None or lecture.id not in _runs:
        raise PluginError(f"{page.file.src_uri}: dlcc markers on a page that is no lecture "
                          "with a companion (see dlcc/lectures/catalog.py)")
    run = _runs[lecture.id]

    def expand(match: re.Match) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "figure":
            if arg not in run["figures"]:
                raise PluginError(f"{page.file.src_uri}: figure {arg!r} is not made by the "
                                  f"{lecture.id} companion (it makes {sorted(run['figures'])})")
            caption = run["captions"][arg]
            src = f"figures/{lecture.id}/{run['figures'][arg]}"
            return (f'<figure markdown="span">\n![{caption}]({src}){{ loading=lazy }}\n'
                    f"<figcaption>{caption}</figcaption>\n</figure>")
        if kind == "number":
            if arg not in run["numbers"]:
                raise PluginError(f"{page.file.src_uri}: number {arg!r} is not recorded by the "
                                  f"{lecture.id} companion")
            return f"{run['numbers'][arg]:.4g}"
        if kind == "output":
            body = run["output"].rstrip()
            return (f"Printed by `dlcc lecture run {lecture.id} --quick`:\n\n"
                    f"```text\n{body}\n```")
        from dlcc.lectures.quiz import load_quiz, to_markdown

        return to_markdown(load_quiz(lecture), lecture)

    return MARKER.sub(expand, markdown)
