# Creates a branch, moves a tag and deletes another branch.
import subprocess
subprocess.run(["git", "branch", "-q", "evil"], check=True)
subprocess.run(["git", "tag", "-f", "v1", "HEAD"], check=True, capture_output=True)
subprocess.run(["git", "branch", "-q", "-D", "keepme"], check=True)
