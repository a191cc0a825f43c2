"""The course pipeline: single-source assignments, a clean release, honest local tests, and a
sandboxed grader. See docs/course.md.

Modules: `assignment` (format, discovery), `markers` (solution regions), `release`, `lint`
(`check`), `plugin` + `student` (how tests reach student code), `runner` (pytest processes),
`student_report` (`test`), `sandbox` + `client` + `isolation` + `codec` + `channel` (the
grader's untrusted side and its wall), `submission`, `questions`, `scoring`, `grade`, `report`.
"""
