#!/usr/bin/env bash
# GPU check: run a prebuilt autoresearch binary for real on a host with an
# NVIDIA GPU and PyTorch: `doctor`, then a short loop (sweep proposer, 3
# experiments) over scripts/gpu-train.py (~30 s of CUDA training each), then
# the results with the GPU telemetry the bot recorded.
#
#   scripts/gpu-check.sh ./autoresearch            # PYTHON=... for another interpreter
#
# Environment: PYTHON (default python3; must import torch with CUDA),
# GPU_INDEX (default 0), METRICS_PORT (default 19100), KEEP=1 keeps the
# temporary repo. Exit status: non-zero when the loop could not run or no
# telemetry was recorded.
set -euo pipefail

BIN=${1:?usage: scripts/gpu-check.sh PATH/TO/autoresearch}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
GPU_INDEX=${GPU_INDEX:-0}
METRICS_PORT=${METRICS_PORT:-19100}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/autoresearch-gpu-check.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	echo "keeping $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi
REPO=$WORK/repo

section() { printf '\n== %s\n' "$*"; }

section "host"
nvidia-smi --query-gpu=index,name,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw --format=csv || echo "(nvidia-smi not available)"
"$PY" -c 'import torch, sys; print("torch", torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available()); sys.exit(0 if torch.cuda.is_available() else 1)'
"$BIN" help >/dev/null && echo "binary: $BIN"

section "research repo in $REPO"
mkdir -p "$REPO"
cp "$HERE/gpu-train.py" "$REPO/train.py"
cat >"$REPO/prepare.py" <<'PY'
"""Read-only data and metric for the GPU check (the role of upstream's prepare.py).

Synthetic but learnable bytes: templated sentences and small sums, generated
deterministically, so the check needs no download.
"""
import math
import random

TIME_BUDGET = 30      # seconds of training per experiment
EVAL_SEQ_LEN = 256    # fixed, so val_bpb is comparable across train.py changes
EVAL_WINDOWS = 512

_ADJ = "quick lazy small large red blue old young bright dark quiet loud".split()
_NOUN = "fox dog cat bird model gradient tensor kernel layer token batch river".split()
_VERB = "jumps over|sleeps near|watches|follows|computes|updates|ignores|meets".split("|")


def _text(n_bytes, seed):
    rnd = random.Random(seed)
    parts, size = [], 0
    while size < n_bytes:
        if rnd.random() < 0.3:
            a, b = rnd.randrange(100), rnd.randrange(100)
            s = "%d+%d=%d. " % (a, b, a + b)
        else:
            s = "the %s %s %s the %s %s. " % (rnd.choice(_ADJ), rnd.choice(_NOUN), rnd.choice(_VERB),
                                             rnd.choice(_ADJ), rnd.choice(_NOUN))
            if rnd.random() < 0.1:
                s = s.capitalize() + "\n"
        parts.append(s)
        size += len(s)
    return "".join(parts).encode()


def load_bytes():
    """(train, val) byte strings."""
    data = _text(3_000_000, 1234)
    split = len(data) * 9 // 10
    return data[:split], data[split:]


def evaluate_bpb(model, val):
    """Bits per byte of model on the first EVAL_WINDOWS windows of val (a long tensor on the GPU)."""
    import torch
    import torch.nn.functional as F

    n = min(EVAL_WINDOWS, (len(val) - 1) // EVAL_SEQ_LEN)
    offs = torch.arange(EVAL_SEQ_LEN + 1, device=val.device)
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, n, 32):
            starts = torch.arange(i, min(n, i + 32), device=val.device) * EVAL_SEQ_LEN
            chunk = val[starts[:, None] + offs[None, :]]
            logits = model(chunk[:, :-1]).float()
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[:, 1:].reshape(-1), reduction="sum")
            total += loss.item()
            count += chunk[:, 1:].numel()
    return total / count / math.log(2)
PY
cat >"$REPO/program.md" <<'MD'
# GPU check
Lower val_bpb of the byte-level GPT in train.py within the fixed time budget.
MD
printf '__pycache__/\n' >"$REPO/.gitignore"
git -C "$REPO" init -q -b main
git -C "$REPO" add .
git -C "$REPO" -c user.name=gpu-check -c user.email=gpu-check@localhost commit -q -m "GPU check repo"

section "doctor"
"$BIN" doctor --repo "$REPO" --proposer sweep --train-cmd "$PY train.py" --gpu-index "$GPU_INDEX" \
	|| echo "(doctor reported failures; the Slack, LLM and data-cache lines do not matter for this check)"

section "run: sweep proposer, 3 experiments"
# Scrape the metrics endpoint in the middle of the second experiment.
(
	sleep 75
	if command -v curl >/dev/null; then
		curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt" 2>&1 || echo "scrape failed" >"$WORK/metrics.txt"
	fi
) &
SCRAPER=$!
START=$(date +%s)
"$BIN" run --repo "$REPO" --tag gpucheck --proposer sweep --max-experiments 3 \
	--train-cmd "$PY train.py" --python "$PY" --timeout 5m \
	--gpu-index "$GPU_INDEX" --gpu-min-free-mb 1024 --metrics-addr "127.0.0.1:$METRICS_PORT" </dev/null
echo "loop took $(( $(date +%s) - START )) s"
wait "$SCRAPER" || true

section "results"
"$BIN" results --repo "$REPO"
"$BIN" results --repo "$REPO" --json >"$WORK/results.json"

section "telemetry recorded per experiment"
"$PY" - "$WORK/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = True
for e in r["experiments"]:
    t = e.get("telemetry")
    head = "#%d %-7s val_bpb %.6f peak_vram_mb %.1f train %.1fs" % (e["number"], e["status"], e["val_bpb"], e["peak_vram_mb"], e["training_seconds"])
    if not t:
        print(head, "| NO TELEMETRY")
        ok = False
        continue
    print(head, "| samples %d util %.1f%% peak mem %.0f MiB max temp %.0f C mean power %.0f W max SM %.0f MHz throttled %s %s shared %s %s comparable %s" % (
        t["samples"], t["mean_util_pct"], t["peak_memory_mb"], t["max_temp_c"], t["mean_power_w"], t["max_sm_clock_mhz"],
        t["throttled"], ",".join(t.get("throttle_reasons") or []), t["shared"], ",".join(t.get("shared_by") or []), t["comparable"]))
    if t["samples"] < 5 or t["mean_util_pct"] <= 0 or t["peak_memory_mb"] <= 0:
        ok = False
if len(r["experiments"]) != 3:
    print("expected 3 experiments, got %d" % len(r["experiments"]))
    ok = False
sys.exit(0 if ok else 1)
PY

section "metrics scraped during the run"
grep '^autoresearch_' "$WORK/metrics.txt" 2>/dev/null || echo "(no scrape: curl missing or the run was shorter than 75 s)"

section "the bot's log (GPU lines)"
grep -iE 'gpu|nvml' "$REPO/.autoresearch/autoresearch.log" | tail -20 || true
echo
echo "GPU check done"
