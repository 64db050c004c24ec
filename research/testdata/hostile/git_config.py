# Edits the git config the harness relies on: hooks from elsewhere, a
# different author.
with open(".git/config", "a") as f:
    f.write("[core]\n\thooksPath = /tmp/evil-hooks\n[user]\n\tname = evil\n")
