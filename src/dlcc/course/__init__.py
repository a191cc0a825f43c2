"""The course pipeline, by flow (see docs/course.md):

    authoring/   the instructor writes and checks an assignment
                 format (assignment.yaml), discovery (where assignments are), markers
                 (solution regions), release, check (+ leaks: the key in anything students
                 get), mutate (+ mutants, equivalence: how good the tests are)
    student/     the student side
                 get (an assignment shipped in the wheel), test (public tests, honest table),
                 submit (check and pack the hand-in), quiz (written answers)
    grading/     the instructor grades
                 grade, submission (reading hand-ins), scoring (results.json), class_table,
                 shared_data, handgrade (hand-graded points), report (class analytics),
                 gradescope (+ autograder, wheel: the Gradescope archive)
    sandbox/     where student code runs during grading, and the wall around it
                 launch, modes, bwrap, namespace, seccomp, limits, cleanup, server, client,
                 channel, codec
    releases/    the student side of every assignment, shipped in the wheel (generated)

At the top, what assignment tests use: `checks` (assertions with student-readable messages),
`plugin` (the pytest plugin: the `task` marker, the `student` and `solution` fixtures),
`proxies` (the objects behind those fixtures) and `runner` (pytest processes).

Dependencies point one way: the sandbox imports nothing else of the course, the test layer
nothing but the sandbox, and nothing here imports `dlcc.commands` (tests/course/test_layout.py
checks this). Each `dlcc course <command>` lives in the module of that name.
"""
