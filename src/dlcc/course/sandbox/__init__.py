"""The sandbox: where student code runs during grading, and the wall around it.

    launch    one sandbox process: its work folder, environment and command, per mode
    modes     bwrap (allowlist) | namespace (denylist, root) | fallback; what each contains
    bwrap     the bubblewrap command line: what student code may see
    namespace the namespace mode's set-up (covers, private /proc, private uid)
    seccomp   the system-call filter every mode installs
    limits    rlimits every sandbox process sets on itself
    cleanup   ending sandbox processes and reaping orphans
    server    the untrusted process that imports student code and answers calls
    client    the trusted side: start, call with deadlines, restart, clean up
    channel   framed messages over pipes, with deadlines and size limits
    codec     the value format that crosses the wall (never pickle)

Nothing here imports another part of `dlcc.course`.
"""
