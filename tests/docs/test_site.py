"""The built site: every lecture page with its figures, prose and exercises; internal links and
anchors resolve; nothing is loaded from another host; the coverage table is complete."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from dlcc.lectures import LECTURES
from dlcc.lectures.quiz import load_quiz

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
READY = [lec for lec in LECTURES if lec.available]
MIN_WORDS, MIN_FIGURES, MIN_EXERCISES = 1500, 2, 3


def prose_words(markdown: str) -> int:
    """Words of prose: code blocks, display math, markers and comments removed; inline math
    counts as one word."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " x ", text)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links, self.sources = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.sources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.sources.append(a["href"])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("lecture", READY, ids=lambda lec: lec.id)
def test_lecture_page_has_prose_figures_and_exercises(lecture):
    source = (DOCS / lecture.page).read_text(encoding="utf-8")
    assert prose_words(source) >= MIN_WORDS, f"{lecture.page}: {prose_words(source)} words of prose"
    assert len(re.findall(r"<!-- dlcc:figure \w+ -->", source)) >= MIN_FIGURES
    assert "<!-- dlcc:quiz -->" in source and len(load_quiz(lecture)) >= MIN_EXERCISES
    assert "<!-- dlcc:output -->" in source


def test_later_lectures_have_no_stub_pages():
    for lecture in LECTURES:
        if not lecture.available:
            assert not (DOCS / lecture.page).exists(), f"{lecture.page} would be a stub"


@pytest.mark.slow
def test_built_pages_show_generated_figures(built_site):
    for lecture in READY:
        html = built_site / lecture.page.removesuffix(".md") / "index.html"
        images = [s for s in _parse(html).sources if f"figures/{lecture.id}/" in s]
        assert len(images) >= MIN_FIGURES, lecture.page
        for src in images:
            assert (html.parent / unquote(src)).resolve().is_file(), src


@pytest.mark.slow
def test_internal_links_and_anchors_resolve_and_nothing_is_external(built_site):
    problems = []
    pages = {p: _parse(p) for p in built_site.rglob("*.html")}
    for page, parsed in pages.items():
        for src in parsed.sources:
            parts = urlsplit(src)
            if parts.scheme or src.startswith("//"):
                problems.append(f"{page.relative_to(built_site)} loads {src} from another host")
            elif not ((built_site / unquote(parts.path).lstrip("/")) if parts.path.startswith("/")
                      else (page.parent / unquote(parts.path))).resolve().exists():
                problems.append(f"{page.relative_to(built_site)}: missing {src}")
        for href in parsed.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("//", "mailto:")):
                continue
            if parts.path.startswith("/"):    # 404.html links from the site root
                target = (built_site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{page.relative_to(built_site)}: broken link {href}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{page.relative_to(built_site)}: no anchor #{parts.fragment} in {href}")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.slow
def test_mathjax_is_served_by_the_site(built_site):
    assert (built_site / "assets" / "mathjax" / "tex-svg.js").stat().st_size > 1_000_000
    html = (built_site / "lectures" / "l03-backprop" / "index.html").read_text()
    assert 'class="arithmatex"' in html


def test_coverage_table_has_a_row_for_every_checklist_item():
    spec = REPO.parent / "shared" / "COURSE-SPEC.md"
    if not spec.is_file():
        pytest.skip("COURSE-SPEC.md is not beside the repository")
    text = spec.read_text(encoding="utf-8")
    section = text[text.index("## 2. Lecture-by-lecture"):text.index("## 3. Environment")]
    counts = {}
    for block in re.split(r"\n(?=\*\*(?:Lecture \d+|Prologue|Closing))", section):
        m = re.match(r"\*\*(Lecture \d+|Prologue|Closing)", block)
        if m:
            counts[m.group(1)] = len(re.findall(r"^- \[ \]", block, flags=re.M))
    coverage = (DOCS / "lectures" / "coverage.md").read_text(encoding="utf-8")
    for n in range(1, 13):
        block = coverage.split(f"### Lecture {n}\n")[1].split("\n### ")[0]
        rows = [r for r in block.splitlines() if r.startswith("| ") and not r.startswith("| checklist")]
        # one row per checklist item (lecture 2 adds a row for its "Note 1", which has no box)
        assert len(rows) >= counts[f"Lecture {n}"], f"lecture {n}: {len(rows)} rows, spec has {counts[f'Lecture {n}']}"
        assert all("](" in r.split("|")[2] for r in rows), f"lecture {n}: a row without a link"
