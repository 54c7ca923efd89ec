"""The far end of conftest's `run_python`: one command, run as `python` would run it, in a
process forked from one that has imported Scrapy already.

Apart from conftest.py so that the forked process imports only this."""

from __future__ import annotations

import os
import runpy
import sys


def main(command: list[str], cwd: str, env: dict[str, str], out: str, err: str) -> None:
    """Run `command` (`["-m", module, *args]` or `["-c", code, *args]`) in `cwd` with `env`,
    its standard output and error going to the files `out` and `err`."""
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    flag, what, *args = command
    if flag == "-m":
        sys.argv = [what, *args]
        sys.path.insert(0, cwd)
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    elif flag == "-c":
        sys.argv = ["-c", *args]
        sys.path.insert(0, "")
        exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102 - python -c
    else:
        raise ValueError(f"run_python takes -m or -c, not {flag!r}")
