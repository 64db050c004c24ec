# A hostile train.py for shutdown: it ignores SIGTERM, and so does the child
# it leaves behind in a session of its own (setsid). Both carry argv[1] in
# their command line so the test can find them from outside any namespace.
import os, signal, sys, time

marker = sys.argv[1]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)",
        marker + "-child"])
print("step 00001 (1.0%) | loss: 9.000000 | remaining: 300s", flush=True)
while True:
    time.sleep(1000)
