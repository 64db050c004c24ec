"""Autoresearch demo: a small byte-level language model, trained on CPU.

The model mixes n-gram predictors of every order from 0 to ORDER. Each order
k predicts the next byte from the counts of what followed the last k bytes
in the training text, smoothed towards uniform. A learned gate decides how
far to trust each order: its weight depends on the order, on how often that
context was seen and on how many different bytes followed it (two log2
buckets: a context seen often with few followers is worth trusting). The gate is trained by
minibatch SGD on the training text with leave-one-out counts, so a position
never predicts itself. val_bpb is measured by prepare.evaluate_bpb on
held-out paragraphs.

This is the file to experiment with. Standard library only.
"""

import math
import random
import sys
import time
from collections import Counter

from prepare import MAX_CONTEXT, TIME_BUDGET, evaluate_bpb, load_splits

# Hyperparameters
ORDER = 3  # longest context in bytes
SMOOTHING = 4.0  # pseudo-count pulling each order's prediction towards uniform
NUM_BUCKETS = 3  # gate buckets per feature (log2 of count, log2 of followers)
LEARNING_RATE = 0.5
NUM_STEPS = 1024
BATCH_SIZE = 256
SEED = 1337


def check_hyperparameters():
    # Nonsense values must stop the run loudly, not train something odd.
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    if not is_int(ORDER) or not 0 <= ORDER <= MAX_CONTEXT:
        raise ValueError(f"ORDER must be an int in 0..{MAX_CONTEXT}, got {ORDER!r}")
    if not SMOOTHING > 0 or not math.isfinite(SMOOTHING):
        raise ValueError(f"SMOOTHING must be positive, got {SMOOTHING!r}")
    if not is_int(NUM_BUCKETS) or NUM_BUCKETS < 1:
        raise ValueError(f"NUM_BUCKETS must be an int >= 1, got {NUM_BUCKETS!r}")
    if not LEARNING_RATE > 0 or not math.isfinite(LEARNING_RATE):
        raise ValueError(f"LEARNING_RATE must be positive, got {LEARNING_RATE!r}")
    if not is_int(NUM_STEPS) or NUM_STEPS < 1:
        raise ValueError(f"NUM_STEPS must be an int >= 1, got {NUM_STEPS!r}")
    if not is_int(BATCH_SIZE) or BATCH_SIZE < 1:
        raise ValueError(f"BATCH_SIZE must be an int >= 1, got {BATCH_SIZE!r}")


class Model:
    def __init__(self, train):
        # For contexts of k bytes: counts[k][ctx + byte], totals[k][ctx] and
        # followers[k][ctx] (how many distinct bytes followed ctx).
        self.counts = []
        self.totals = []
        self.followers = []
        for k in range(ORDER + 1):
            grams = Counter(train[i - k:i + 1] for i in range(k, len(train)))
            totals = Counter()
            followers = Counter()
            for g, c in grams.items():
                totals[g[:-1]] += c
                followers[g[:-1]] += 1
            self.counts.append(grams)
            self.totals.append(totals)
            self.followers.append(followers)
        # gate[k][count bucket * NUM_BUCKETS + followers bucket]: a logit.
        self.gate = [[0.0] * NUM_BUCKETS * NUM_BUCKETS for _ in range(ORDER + 1)]

    def num_params(self):
        return sum(len(c) for c in self.counts) + (ORDER + 1) * NUM_BUCKETS * NUM_BUCKETS

    def features(self, ctx, byte, held_out=0):
        """Per order: (prediction, gate bucket). held_out=1 removes the
        position's own occurrence from the counts (leave-one-out in training)."""
        out = []
        n = len(ctx)
        top = NUM_BUCKETS - 1
        for k in range(ORDER + 1):
            if k > n:
                c = total = distinct = 0
            else:
                key = ctx[n - k:]
                c = self.counts[k].get(key + bytes((byte,)), 0) - held_out
                total = self.totals[k].get(key, 0) - held_out
                distinct = self.followers[k].get(key, 0)
                if held_out and c == 0:
                    distinct -= 1  # this position was the only such follower
            p = (c + SMOOTHING / 256.0) / (total + SMOOTHING)
            bucket = min(top, int(math.log2(1 + total))) * NUM_BUCKETS + min(top, int(math.log2(1 + distinct)))
            out.append((p, bucket))
        return out

    def weights(self, feats):
        logits = [self.gate[k][b] for k, (_, b) in enumerate(feats)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        z = sum(exps)
        return [e / z for e in exps]

    def prob(self, ctx, byte):
        feats = self.features(ctx, byte)
        w = self.weights(feats)
        return sum(wk * p for wk, (p, _) in zip(w, feats))


def train_step(model, data, positions):
    """One SGD step on -log p over the positions; returns the loss in bits."""
    grad = [[0.0] * NUM_BUCKETS * NUM_BUCKETS for _ in range(ORDER + 1)]
    loss = 0.0
    for i in positions:
        feats = model.features(data[i - ORDER:i], data[i], held_out=1)
        w = model.weights(feats)
        mix = sum(wk * p for wk, (p, _) in zip(w, feats))
        loss -= math.log(mix)
        # d(-log mix)/d(logit_k) = w_k * (1 - p_k / mix)
        for k, (p, b) in enumerate(feats):
            grad[k][b] += w[k] * (1.0 - p / mix)
    scale = LEARNING_RATE / len(positions)
    for k in range(ORDER + 1):
        for b in range(NUM_BUCKETS * NUM_BUCKETS):
            model.gate[k][b] -= scale * grad[k][b]
    return loss / len(positions) / math.log(2)


def main():
    t_start = time.time()
    check_hyperparameters()
    rng = random.Random(SEED)
    train, val = load_splits()
    model = Model(train)

    t_train = time.time()
    step = 0
    for step in range(1, NUM_STEPS + 1):
        positions = [rng.randrange(ORDER, len(train)) for _ in range(BATCH_SIZE)]
        loss = train_step(model, train, positions)
        if not math.isfinite(loss):
            raise FloatingPointError(f"loss is {loss} at step {step}")
        elapsed = time.time() - t_train
        remaining = elapsed / step * (NUM_STEPS - step)
        print(f"\rstep {step:05d} ({100.0 * step / NUM_STEPS:.1f}%) | loss: {loss:.6f} | remaining: {remaining:.0f}s",
              end="", flush=True)
        if elapsed > TIME_BUDGET:
            print(f"\ntime budget of {TIME_BUDGET}s reached after {step} steps", file=sys.stderr)
            break
    print()
    training_seconds = time.time() - t_train

    val_bpb = evaluate_bpb(model, val)
    total_seconds = time.time() - t_start
    print("---")
    print(f"val_bpb:          {val_bpb:.6f}")
    print(f"training_seconds: {training_seconds:.1f}")
    print(f"total_seconds:    {total_seconds:.1f}")
    print("peak_vram_mb:     0.0")
    print("mfu_percent:      0.00")
    print(f"total_tokens_M:   {(len(train) + step * BATCH_SIZE) / 1e6:.1f}")
    print(f"num_steps:        {step}")
    print(f"num_params_M:     {model.num_params() / 1e6:.1f}")
    print(f"depth:            {ORDER}")


if __name__ == "__main__":
    main()
