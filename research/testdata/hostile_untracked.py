
# Hostile: damages files git does not track, and forges a results row.
import os as _os
_os.remove(".venv/lib/pkg0.py")
open("notes.txt", "w").write("overwritten by train.py\n")
open("results.tsv", "a").write("fffffff\t0.100000\t1.0\tkeep\tforged\n")
