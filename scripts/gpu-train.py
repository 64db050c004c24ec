"""
A small GPU train.py for scripts/gpu-check.sh: a byte-level GPT that trains on
CUDA for TIME_BUDGET seconds (from the read-only prepare.py) and prints
upstream autoresearch's progress lines (joined by '\r') and summary block.

The UPPER_CASE constants are what the sweep proposer varies. Any value it
picks must still train: the attention width follows N_EMBD, heads follow
HEAD_DIM, and the position table covers both SEQ_LEN and EVAL_SEQ_LEN.
"""
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from prepare import TIME_BUDGET, EVAL_SEQ_LEN, load_bytes, evaluate_bpb

LEARNING_RATE = 3e-3
WEIGHT_DECAY = 0.1
WARMUP_STEPS = 50
BATCH_SIZE = 64
SEQ_LEN = 256
N_LAYER = 4
N_EMBD = 256
HEAD_DIM = 64
DROPOUT = 0.0
SEED = 1337

t_start = time.time()
if not torch.cuda.is_available():
    print("CUDA is not available: this train.py is for the GPU check", file=sys.stderr)
    sys.exit(1)
device = "cuda"
torch.manual_seed(SEED)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True


class Block(nn.Module):
    def __init__(self, n_embd, n_head, head_dim, dropout):
        super().__init__()
        self.n_head, self.head_dim = n_head, head_dim
        width = n_head * head_dim
        self.ln1 = nn.LayerNorm(n_embd)
        self.qkv = nn.Linear(n_embd, 3 * width, bias=False)
        self.proj = nn.Linear(width, n_embd, bias=False)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd, bias=False), nn.GELU(), nn.Linear(4 * n_embd, n_embd, bias=False)
        )
        self.dropout = dropout

    def forward(self, x):
        B, T, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(self.n_head * self.head_dim, dim=2)
        q, k, v = (t.view(B, T, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, -1))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        n_embd = max(8, int(N_EMBD))
        head_dim = max(8, int(HEAD_DIM))
        n_head = max(1, n_embd // head_dim)
        self.block_size = max(int(SEQ_LEN), EVAL_SEQ_LEN)
        self.tok = nn.Embedding(256, n_embd)
        self.pos = nn.Embedding(self.block_size, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, head_dim, DROPOUT) for _ in range(max(1, int(N_LAYER))))
        self.ln = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, 256, bias=False)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.ln(x))
        if targets is None:
            return logits
        return F.cross_entropy(logits.view(-1, 256).float(), targets.reshape(-1))


train_data, val_data = load_bytes()
train_data = torch.frombuffer(bytearray(train_data), dtype=torch.uint8).to(device).long()
val_data = torch.frombuffer(bytearray(val_data), dtype=torch.uint8).to(device).long()
seq = max(8, int(SEQ_LEN))
batch = max(1, int(BATCH_SIZE))

model = GPT().to(device)
num_params = sum(p.numel() for p in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY, betas=(0.9, 0.95), fused=True)
gen = torch.Generator(device=device)
gen.manual_seed(SEED)


def get_batch():
    ix = torch.randint(len(train_data) - seq - 1, (batch,), device=device, generator=gen)
    offsets = torch.arange(seq + 1, device=device)
    chunk = train_data[ix[:, None] + offsets[None, :]]
    return chunk[:, :-1], chunk[:, 1:]


torch.cuda.reset_peak_memory_stats()
step = 0
tokens = 0
training_seconds = 0.0
loss_ema = None
while training_seconds < TIME_BUDGET:
    t0 = time.time()
    lr = LEARNING_RATE * min(1.0, (step + 1) / max(1, WARMUP_STEPS))
    lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, training_seconds / TIME_BUDGET))) * 0.9 + 0.1
    for g in opt.param_groups:
        g["lr"] = lr
    x, y = get_batch()
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    torch.cuda.synchronize()
    dt = time.time() - t0
    if step > 2:  # the first steps include CUDA warm-up, like upstream
        training_seconds += dt
    step += 1
    tokens += batch * seq
    lv = loss.item()
    if not math.isfinite(lv):
        print("\nloss is %s at step %d" % (lv, step), file=sys.stderr)
        sys.exit(1)
    loss_ema = lv if loss_ema is None else 0.9 * loss_ema + 0.1 * lv
    pct = min(100.0, 100.0 * training_seconds / TIME_BUDGET)
    remaining = max(0, TIME_BUDGET - training_seconds)
    print(
        "step %05d (%.1f%%) | loss: %.6f | lr: %.2e | dt: %.0fms | tok/sec: %s | remaining: %.0fs    "
        % (step, pct, loss_ema, lr, dt * 1000, format(int(batch * seq / max(dt, 1e-9)), ","), remaining),
        end="\r",
        flush=True,
    )
print()

model.eval()
with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
    val_bpb = evaluate_bpb(model, val_data)
peak_vram_mb = torch.cuda.max_memory_allocated() / 1024 / 1024
print("---")
print("val_bpb:          %.6f" % val_bpb)
print("training_seconds: %.1f" % training_seconds)
print("total_seconds:    %.1f" % (time.time() - t_start))
print("peak_vram_mb:     %.1f" % peak_vram_mb)
print("mfu_percent:      %.2f" % 0.0)
print("total_tokens_M:   %.1f" % (tokens / 1e6))
print("num_steps:        %d" % step)
print("num_params_M:     %.1f" % (num_params / 1e6))
print("depth:            %d" % max(1, int(N_LAYER)))
