# The Python check server (pyserver.go): reads one JSON request per line,
# {"dir": ..., "script": ..., "args": [...]}, runs the script as
# `python -c SCRIPT ARGS...` would in dir, and answers one JSON line,
# {"code": exit status, "stdout": ..., "output": stdout and stderr}.
# The scripts only parse files; each runs in a fresh namespace.
import io
import json
import os
import sys
import traceback


class Tee(io.TextIOBase):
    def __init__(self, *targets):
        self.targets = targets

    def write(self, s):
        for t in self.targets:
            t.write(s)
        return len(s)


def run(req):
    out, both = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr, sys.argv
    code = 0
    try:
        os.chdir(req["dir"])
        sys.argv = ["-c"] + list(req["args"])
        sys.stdout, sys.stderr = Tee(out, both), both
        exec(compile(req["script"], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            both.write("%s\n" % (e.code,))
            code = 1
    except BaseException as e:
        # Without this function's own frame: the traceback a subprocess shows.
        traceback.print_exception(type(e), e, e.__traceback__.tb_next, file=both)
        code = 1
    finally:
        sys.stdout, sys.stderr, sys.argv = saved
    return {"code": code, "stdout": out.getvalue(), "output": both.getvalue()}


def serve():
    answers = sys.stdout
    for line in sys.stdin:
        answers.write(json.dumps(run(json.loads(line))) + "\n")
        answers.flush()


serve()
