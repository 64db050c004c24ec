# A hostile train.py: it leaves a grandchild behind that escaped its process
# group and session (fork, setsid, fork: the classic daemon), then exits or
# keeps training as argv[2] says. The grandchild sleeps with a marker
# in its command line, so the test can find it from outside any namespace.
import os, sys, time

marker = sys.argv[1]
then = sys.argv[2]  # "exit" or "hang"
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(r)
        os.write(w, b"x")
        os.close(w)
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)", marker + "-grandchild"])
    os._exit(0)
os.close(w)
os.read(r, 1)  # the grandchild exists
os.close(r)
time.sleep(0.5)  # let it reach exec
print("step 1 (1.0%) | loss: 9.0", flush=True)
if then == "hang":
    while True:
        time.sleep(1000)
print("parent exits, grandchild stays", flush=True)
