# Moves the user's branch under the harness: checks out master, so a naive
# harness would commit the kept experiment onto master.
import subprocess
subprocess.run(["git", "checkout", "-q", "master"], check=True)
