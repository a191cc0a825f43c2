// MathJax 3 for pymdownx.arithmatex's "generic" output: only elements of class "arithmatex"
// are typeset; their TeX is wrapped in \( \) (inline) or \[ \] (display). The script itself
// (assets/mathjax/tex-svg.js) is served by this site, and SVG output needs no web fonts.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
  },
  svg: { fontCache: "global" },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
