"""Data loading and evaluation for the autoresearch demo.

This file is read-only: the harness checks it is unchanged before every run,
so every experiment is measured on the same bytes in the same way. Edit
train.py instead.
"""

import math
import os

TIME_BUDGET = 20  # seconds; training stops early if it runs longer than this
# Tests that compare two runs raise it, so a loaded machine cannot cut one short.
TIME_BUDGET = int(os.environ.get("AUTORESEARCH_DEMO_TIME_BUDGET", TIME_BUDGET))
MAX_CONTEXT = 16  # bytes of history a model may look at per prediction
VAL_EVERY = 10  # every 10th paragraph is held out for validation

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_splits():
    """Return (train, val) as bytes.

    The corpus is every data/*.txt file in name order, split into paragraphs
    at blank lines; paragraph i goes to validation when i % VAL_EVERY is
    VAL_EVERY - 1, to training otherwise. The rule is fixed so val_bpb is
    comparable across experiments.
    """
    names = sorted(n for n in os.listdir(DATA_DIR) if n.endswith(".txt"))
    if not names:
        raise FileNotFoundError(f"no .txt files in {DATA_DIR}")
    text = b"\n\n".join(open(os.path.join(DATA_DIR, n), "rb").read().strip() for n in names)
    paras = text.split(b"\n\n")
    train = b"\n\n".join(p for i, p in enumerate(paras) if i % VAL_EVERY != VAL_EVERY - 1)
    val = b"\n\n".join(p for i, p in enumerate(paras) if i % VAL_EVERY == VAL_EVERY - 1)
    if not train or not val:
        raise ValueError("corpus too small to split")
    return train, val


def _check_normalized(model, data, positions=8):
    # A model that does not spread exactly one unit of probability over the
    # 256 possible bytes could report any bits-per-byte it liked; refuse it.
    for j in range(positions):
        i = (j * 7919) % len(data)
        ctx = data[max(0, i - MAX_CONTEXT):i]
        total = sum(model.prob(ctx, b) for b in range(256))
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"model probabilities sum to {total!r}, not 1, at position {i}")


def evaluate_bpb(model, data):
    """Mean -log2 p(next byte | up to MAX_CONTEXT previous bytes) over data.

    model.prob(context, byte) must return the probability the model assigns
    to byte (an int 0..255) following context (a bytes object).
    """
    _check_normalized(model, data)
    total = 0.0
    for i in range(len(data)):
        p = model.prob(data[max(0, i - MAX_CONTEXT):i], data[i])
        if not 0.0 < p <= 1.0:
            raise ValueError(f"model gave probability {p!r} at position {i}")
        total -= math.log2(p)
    return total / len(data)
