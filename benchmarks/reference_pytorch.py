#!/usr/bin/env python3
"""Plain-PyTorch reference of seqrec's transformer recommenders.

The same model, data shape and hyperparameters as `seqrec bench` with
`--model.body transformer`, written as a good PyTorch user would write it, so that the
side-by-side (benchmarks/gpu_side_by_side.sh) compares seqrec against PyTorch's best case:

- `--model gpt2`: seqrec's `--model.masking clm --model.norm pre --model.activation gelu`:
  causal, pre-LN, a final LayerNorm, next-item labels (the label of position t is the item
  at t + 1), loss over the real labelled positions.
- `--model bert4rec`: seqrec's `--model.masking mlm --model.norm post`: bidirectional,
  post-LN, each real position replaced by the mask id with probability --mlm_probability,
  loss over the masked positions (a sequence that draws no mask simply adds nothing).

Model: item table [items + 3, d] (ids 0, 1, 2: padding, mask, unknown; real items from 3),
learned positions [L, d], input LayerNorm and dropout (seqrec's transformer input block
norms the summed embeddings, as BERT does), `layers` blocks of multi-head self-attention and
a GELU feed-forward of d_ff = 4 d, output tied to the item table. Sequences are right-padded.

Attention is torch.nn.functional.scaled_dot_product_attention inside hand-written blocks
(not nn.TransformerEncoderLayer), so that the causal case can use `is_causal=True` alone
and keep SDPA's flash kernel: with right padding a real position's causal window holds
real events only, so the key-padding mask changes nothing that reaches the loss
(`--attn_mask explicit` passes the full causal + key-padding mask instead). The
bidirectional case needs the key-padding mask and passes it as a boolean attn_mask.

Losses: `ce`, the full softmax over all real items; `sampled`, a sampled softmax with
--negatives uniform negatives drawn afresh for every labelled position, the positive's
logit first, accidental hits masked to -inf. seqrec subtracts log Q from every logit; for a
uniform sampler that is one constant for all of them, which a softmax ignores, so it is
left out here. A full softmax over a large catalog does not fit as one [P, items] logits
matrix: `--ce_impl chunked` (chosen by `auto` when it would not fit comfortably) computes
the loss and both gradients in chunks of positions in one autograd Function, without
keeping the logits and without recomputing them.

Data: synthetic sessions generated on the device up front (a pool of --pool batches,
cycled), so loading costs nothing. Lengths: uniform in [ceil(L/2), L], or `geometric`,
the length distribution of `seqrec prepare --synthetic` (3 + a geometric number of events
with mean --mean_length, less the two events leave-last-out holds out, kept up to L).
Items: Zipf (exponent --zipf_exponent over item rank) by default, or uniform.

Optimizer: Adam (fused on CUDA) with seqrec's defaults: lr 1e-3, betas (0.9, 0.98), no
weight decay, gradient norm clipped to 1.0.

Model FLOPs: see model_flops(). `--measure_peak` times a large bf16 matmul instead of
training, for MFU against the peak this GPU actually reaches. `--summarize RUNS.tsv`
turns the side-by-side's results into its markdown table (no torch needed for that).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # --help, --summarize and model_flops() need no torch
    torch = nn = F = None

PAD_ID, MASK_ID, UNKNOWN_ID = 0, 1, 2
FIRST_REAL_ID = 3

FLOPS_FORMULA = ("model FLOPs/step = 3 (forward + backward) x [ B x layers x (8 L d^2 + 4 L^2 d + 4 L d d_ff)"
                 " + 2 P d C ], P = labelled positions in the step, C = items (ce) or negatives + 1 (sampled);"
                 " attention counts the full L x L (not halved for causal); padded positions count in the body")


def model_flops(batch_size, max_seq_len, d_model, layers, d_ff, items, labelled_positions, loss, negatives,
                training=True):
    """Matmul FLOPs of one step, counted explicitly (a multiply-add is 2 FLOPs).

    Per layer and sequence: 2 L (4 d^2) for the Q, K, V and output projections, 2 x 2 L^2 d
    for the attention scores and the weighted sum over the full L x L (causal attention is
    not halved: both seqrec and SDPA's convention of "work the model asks for"), 2 L (2 d d_ff)
    for the feed-forward. Every one of the B L slots counts, padding included, since both
    implementations compute on the padded [B, L] batch. Output layer: 2 P d C, with C all
    items for the full softmax and negatives + 1 for the sampled one. Training is 3 x forward
    (the backward pass has two matmuls for each forward one). Element-wise work, softmax,
    norms and the optimizer are not counted.
    """
    L, d = max_seq_len, d_model
    projections = 2 * L * 4 * d * d
    attention = 2 * 2 * L * L * d
    feed_forward = 2 * L * 2 * d * d_ff
    body = batch_size * layers * (projections + attention + feed_forward)
    classes = items if loss == "ce" else negatives + 1
    output = 2 * labelled_positions * d * classes
    forward = body + output
    return {"body_forward": float(body), "output_forward": float(output), "forward": float(forward),
            "total": float(3 * forward if training else forward)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["gpt2", "bert4rec"], default="gpt2")
    p.add_argument("--loss", choices=["ce", "sampled"], default="ce")
    p.add_argument("--negatives", type=int, default=256, help="sampled: negatives per labelled position")
    p.add_argument("--d_model", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--d_ff", type=int, default=0, help="0: 4 x d_model")
    p.add_argument("--max_seq_len", type=int, default=50)
    p.add_argument("--items", type=int, default=12000, help="real items (the table has 3 more rows)")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--mlm_probability", type=float, default=0.2)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--adam_beta2", type=float, default=0.98, help="seqrec's default")
    p.add_argument("--clip_norm", type=float, default=1.0, help="gradient norm clip, seqrec's default (0: off)")
    p.add_argument("--steps", type=int, default=50, help="timed steps")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="bf16",
                   help="bf16: torch.autocast with float32 weights")
    p.add_argument("--compile", action="store_true", help="torch.compile the encoder (the loss stays eager)")
    p.add_argument("--attn_mask", choices=["auto", "explicit"], default="auto",
                   help="auto: is_causal alone for gpt2; explicit: causal + key-padding mask")
    p.add_argument("--ce_impl", choices=["auto", "naive", "chunked"], default="auto",
                   help="full softmax: one logits matrix, or chunks of positions in one autograd Function")
    p.add_argument("--ce_chunk", type=int, default=0, help="chunked: positions per chunk (0: about 2^29 logits)")
    p.add_argument("--length_dist", choices=["uniform", "geometric"], default="uniform")
    p.add_argument("--mean_length", type=float, default=0,
                   help="geometric: mean events of a user as given to seqrec prepare (0: max_seq_len)")
    p.add_argument("--item_dist", choices=["zipf", "uniform"], default="zipf")
    p.add_argument("--zipf_exponent", type=float, default=1.0)
    p.add_argument("--pool", type=int, default=64, help="pre-built batches, cycled")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke run")
    p.add_argument("--peak_tflops", type=float, default=0, help="dense bf16 peak for MFU (0: no MFU)")
    p.add_argument("--json", default="", help="also write the figures here")
    p.add_argument("--measure_peak", action="store_true", help="time a bf16 matmul instead of training")
    p.add_argument("--peak_size", type=int, default=8192, help="--measure_peak: n of the n x n x n matmul")
    p.add_argument("--peak_reps", type=int, default=20, help="--measure_peak: matmuls per timed trial")
    p.add_argument("--summarize", default="", metavar="RUNS_TSV",
                   help="print the side-by-side table of the runs listed in this file (no training)")
    p.add_argument("--peak_json", default="", help="--summarize: the --measure_peak JSON")
    args = p.parse_args(argv)
    if args.d_ff <= 0:
        args.d_ff = 4 * args.d_model
    if args.mean_length <= 0:
        args.mean_length = float(args.max_seq_len)
    if args.d_model % args.heads:
        p.error("--d_model must be a multiple of --heads")
    if args.steps < 1 or args.warmup < 0 or args.pool < 1:
        p.error("--steps must be at least 1, --warmup and --pool not negative")
    return args


# ----------------------------------------------------------------------------- model

if torch is not None:

    class Block(nn.Module):
        def __init__(self, d, heads, d_ff, dropout, norm_first):
            super().__init__()
            self.heads, self.p, self.norm_first = heads, dropout, norm_first
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.ff_in = nn.Linear(d, d_ff)
            self.ff_out = nn.Linear(d_ff, d)
            self.norm1 = nn.LayerNorm(d)
            self.norm2 = nn.LayerNorm(d)
            self.drop = nn.Dropout(dropout)

        def attention(self, x, attn_mask, causal):
            B, L, d = x.shape
            q, k, v = self.qkv(x).view(B, L, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                               dropout_p=self.p if self.training else 0.0, is_causal=causal)
            return self.out(y.transpose(1, 2).reshape(B, L, d))

        def feed_forward(self, x):
            return self.drop(self.ff_out(self.drop(F.gelu(self.ff_in(x)))))

        def forward(self, x, attn_mask, causal):
            if self.norm_first:
                x = x + self.drop(self.attention(self.norm1(x), attn_mask, causal))
                return x + self.feed_forward(self.norm2(x))
            x = self.norm1(x + self.drop(self.attention(x, attn_mask, causal)))
            return self.norm2(x + self.feed_forward(x))

    class Encoder(nn.Module):
        """Ids [B, L] -> hidden states [B, L, d]; the item table is also the output layer."""

        def __init__(self, args):
            super().__init__()
            d = args.d_model
            self.norm_first = args.model == "gpt2"
            self.items = nn.Embedding(args.items + FIRST_REAL_ID, d)
            self.positions = nn.Parameter(torch.empty(args.max_seq_len, d))
            # Small enough that the tied output starts near a uniform softmax (seqrec's 0.02).
            nn.init.normal_(self.items.weight, std=0.02)
            nn.init.normal_(self.positions, std=0.02)
            self.input_norm = nn.LayerNorm(d)
            self.drop = nn.Dropout(args.dropout)
            self.blocks = nn.ModuleList(
                Block(d, args.heads, args.d_ff, args.dropout, self.norm_first) for _ in range(args.layers))
            # Pre-LN never norms its residual stream otherwise.
            self.final_norm = nn.LayerNorm(d) if self.norm_first else None

        def forward(self, ids, attn_mask, causal):
            x = self.drop(self.input_norm(self.items(ids) + self.positions[: ids.shape[1]]))
            for block in self.blocks:
                x = block(x, attn_mask, causal)
            return self.final_norm(x) if self.final_norm is not None else x

    class ChunkedSoftmaxCE(torch.autograd.Function):
        """Sum over positions of the full-softmax cross-entropy, hidden [P, d] against
        weight[first:] (all real items), in chunks of positions.

        Each chunk's logits give its loss and, right away, d loss / d logits = softmax - one-hot,
        hence both gradients (hidden: g @ W, table: g^T @ h), so neither the [P, items] logits
        nor a recomputation is needed: 3 matmuls per chunk, as a plain softmax has. The matmuls
        run in `compute_dtype` with autocast off (explicit casts), softmax in float32.
        """

        @staticmethod
        def forward(ctx, hidden, weight, labels, first, chunk, compute_dtype):
            with torch.autocast(device_type=hidden.device.type, enabled=False):
                table = weight[first:].to(compute_dtype)
                grad_hidden = torch.empty(hidden.shape, dtype=torch.float32, device=hidden.device)
                grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
                grad_table = grad_weight[first:]
                loss = torch.zeros((), dtype=torch.float32, device=hidden.device)
                for start in range(0, hidden.shape[0], chunk):
                    h = hidden[start:start + chunk].to(compute_dtype)
                    y = labels[start:start + chunk]
                    logits = (h @ table.t()).float()
                    lse = torch.logsumexp(logits, 1)
                    loss += (lse - logits.gather(1, y.unsqueeze(1)).squeeze(1)).sum()
                    logits.sub_(lse.unsqueeze(1)).exp_()
                    logits[torch.arange(y.shape[0], device=y.device), y] -= 1.0
                    g = logits.to(compute_dtype)
                    del logits
                    grad_hidden[start:start + chunk] = (g @ table).float()
                    grad_table += (g.t() @ h).float()
            # Gradients, not inputs, are what backward needs: kept on ctx (save_for_backward is
            # meant for inputs and outputs).
            ctx.grads = (grad_hidden.to(hidden.dtype), grad_weight.to(weight.dtype))
            return loss

        @staticmethod
        def backward(ctx, grad_loss):
            grad_hidden, grad_weight = ctx.grads
            del ctx.grads
            return grad_hidden * grad_loss, grad_weight * grad_loss, None, None, None, None


def full_softmax_ce(args, hidden, table_weight, labels, impl, chunk):
    """Mean over P positions; labels are item ids (>= FIRST_REAL_ID)."""
    targets = labels - FIRST_REAL_ID
    if impl == "naive":
        logits = hidden @ table_weight[FIRST_REAL_ID:].t()
        return F.cross_entropy(logits.float(), targets)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    total = ChunkedSoftmaxCE.apply(hidden, table_weight, targets, FIRST_REAL_ID, chunk, dtype)
    return total / hidden.shape[0]


def sampled_softmax_ce(args, hidden, table_weight, labels):
    """Mean over P positions of the sampled softmax, fresh uniform negatives per position."""
    P = hidden.shape[0]
    negatives = torch.randint(FIRST_REAL_ID, FIRST_REAL_ID + args.items, (P, args.negatives), device=hidden.device)
    positive = (hidden * table_weight[labels]).sum(-1, keepdim=True).float()
    scores = torch.bmm(table_weight[negatives], hidden.unsqueeze(-1)).squeeze(-1).float()
    scores = scores.masked_fill(negatives == labels.unsqueeze(1), float("-inf"))
    logits = torch.cat([positive, scores], 1)
    return F.cross_entropy(logits, torch.zeros(P, dtype=torch.long, device=hidden.device))


# ----------------------------------------------------------------------------- data

def make_pool(args, device):
    """--pool batches of right-padded sessions: ids [B, L], real-event mask [B, L], and for
    gpt2 the flat indices of the labelled slots and their labels."""
    g = torch.Generator(device=device)
    g.manual_seed(args.seed)
    n, B, L = args.pool, args.batch_size, args.max_seq_len
    if args.length_dist == "uniform":
        lengths = torch.randint((L + 1) // 2, L + 1, (n, B), device=device, generator=g)
    else:
        # seqrec prepare --synthetic: 3 + Geometric(p) events, p = 1 / (mean - 2); leave-last-out
        # trains on all but the last two of them.
        extra_mean = max(args.mean_length - 3.0, 0.0)
        if extra_mean == 0:
            lengths = torch.ones((n, B), dtype=torch.long, device=device)
        else:
            p = 1.0 / (extra_mean + 1.0)
            u = torch.rand((n, B), dtype=torch.float64, device=device, generator=g)
            lengths = 1 + torch.floor(torch.log1p(-u) / math.log1p(-p)).long()
        lengths = lengths.clamp(1, L)
    if args.item_dist == "uniform":
        ids = torch.randint(FIRST_REAL_ID, FIRST_REAL_ID + args.items, (n, B, L), device=device, generator=g)
    else:
        ranks = torch.arange(1, args.items + 1, dtype=torch.float64, device=device)
        cdf = torch.cumsum(ranks.pow(-args.zipf_exponent), 0)
        cdf /= cdf[-1].clone()
        u = torch.rand((n, B, L), dtype=torch.float64, device=device, generator=g)
        ids = torch.searchsorted(cdf, u).clamp_(max=args.items - 1) + FIRST_REAL_ID
        # Zipf over rank would put every popular item at a low id; spread them over the table.
        perm = torch.randperm(args.items, device=device, generator=g)
        ids = perm[ids - FIRST_REAL_ID] + FIRST_REAL_ID
    real = torch.arange(L, device=device).view(1, 1, L) < lengths.unsqueeze(-1)
    ids = torch.where(real, ids, torch.zeros_like(ids))
    pool = []
    for i in range(n):
        batch = {"ids": ids[i].contiguous(), "real": real[i].contiguous()}
        if args.model == "gpt2":
            labelled = real[i].clone()
            labelled[:, :-1] &= real[i][:, 1:]
            labelled[:, -1] = False
            flat = labelled.view(-1).nonzero().squeeze(1)
            batch["positions"] = flat
            batch["labels"] = ids[i].view(-1)[flat + 1]  # the next slot of the same row
            batch["count"] = int(flat.numel())
        pool.append(batch)
    return pool


# ----------------------------------------------------------------------------- training

def choose_ce_impl(args, device):
    if args.loss != "ce" or args.ce_impl != "auto":
        return args.ce_impl if args.loss == "ce" else "none"
    # A naive full softmax keeps about 16 bytes per logit (bf16 logits, their float32 copy,
    # log-softmax and gradients); use it while the largest possible one fits in half the GPU.
    if device.type == "cuda":
        budget = torch.cuda.get_device_properties(device).total_memory / 2
    else:
        budget = 8 * 2 ** 30
    return "naive" if 16.0 * args.batch_size * args.max_seq_len * args.items <= budget else "chunked"


def ce_chunk_size(args):
    if args.ce_chunk > 0:
        return args.ce_chunk
    return max(1, (2 ** 29) // args.items)


def train(args):
    if torch is None:
        sys.exit("reference_pytorch.py: python torch is not installed")
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("reference_pytorch.py: --device cuda but torch.cuda.is_available() is False")
    torch.manual_seed(args.seed)
    pool = make_pool(args, device)
    encoder = Encoder(args).to(device)
    params = list(encoder.parameters())
    adam = {"lr": args.lr, "betas": (0.9, args.adam_beta2)}
    if cuda:
        adam["fused"] = True
    optimizer = torch.optim.Adam(params, **adam)
    forward = torch.compile(encoder) if args.compile else encoder
    ce_impl = choose_ce_impl(args, device)
    chunk = ce_chunk_size(args)
    causal = args.model == "gpt2"
    explicit_mask = args.attn_mask == "explicit"
    tril = torch.ones(args.max_seq_len, args.max_seq_len, dtype=torch.bool, device=device).tril()
    for batch in pool:
        key_mask = batch["real"][:, None, None, :]  # [B, 1, 1, L]: True takes part
        if causal and not explicit_mask:
            batch["attn_mask"] = None
        elif causal:
            batch["attn_mask"] = key_mask & tril
        else:
            batch["attn_mask"] = key_mask
    use_is_causal = causal and not explicit_mask
    bf16 = args.precision == "bf16"
    encoder.train()

    def step(batch):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            ids = batch["ids"]
            if causal:
                positions, labels, count = batch["positions"], batch["labels"], batch["count"]
            else:
                masked = (torch.rand(ids.shape, device=device) < args.mlm_probability) & batch["real"]
                ids = torch.where(masked, torch.full_like(ids, MASK_ID), ids)
                positions = masked.view(-1).nonzero().squeeze(1)  # synchronises: P sizes the loss
                labels = batch["ids"].view(-1)[positions]
                count = int(positions.numel())
            hidden = forward(ids, batch["attn_mask"], use_is_causal)
            hidden = hidden.reshape(-1, hidden.shape[-1]).index_select(0, positions)
            table = encoder.items.weight
            if count == 0:
                loss = hidden.sum() * 0.0
            elif args.loss == "ce":
                loss = full_softmax_ce(args, hidden, table, labels, ce_impl, chunk)
            else:
                loss = sampled_softmax_ce(args, hidden, table, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.clip_norm)
        optimizer.step()
        return loss.detach(), count

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for i in range(args.warmup):
        step(pool[i % len(pool)])
    sync()
    step_ms, counts, losses = [], [], []
    start = time.perf_counter()
    for i in range(args.steps):
        t0 = time.perf_counter()
        loss, count = step(pool[(args.warmup + i) % len(pool)])
        sync()  # one per step, as seqrec's step waits for its loss
        step_ms.append((time.perf_counter() - t0) * 1e3)
        counts.append(count)
        losses.append(loss)
    sync()
    seconds = time.perf_counter() - start

    flops = [model_flops(args.batch_size, args.max_seq_len, args.d_model, args.layers, args.d_ff, args.items, c,
                         args.loss, args.negatives)["total"] for c in counts]
    flops_per_step = sum(flops) / len(flops)
    tflops = sum(flops) / seconds / 1e12
    if cuda:
        peak_memory = torch.cuda.max_memory_allocated(device) / 2 ** 20
        memory_kind = "gpu_max_allocated"
        device_name = torch.cuda.get_device_name(device)
    else:
        import resource
        peak_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        memory_kind = "host_max_rss"
        device_name = "cpu"
    result = {
        "impl": "pytorch", "model": args.model, "loss": args.loss, "precision": args.precision,
        "d_model": args.d_model, "max_seq_len": args.max_seq_len, "items": args.items,
        "batch_size": args.batch_size, "layers": args.layers, "heads": args.heads, "d_ff": args.d_ff,
        "negatives": args.negatives, "steps": args.steps, "warmup": args.warmup,
        "sequences_per_s": args.steps * args.batch_size / seconds,
        "positions_per_s": sum(counts) / seconds,
        "ms_per_step_mean": statistics.mean(step_ms),
        "ms_per_step_p50": statistics.median(step_ms),
        "peak_memory_mib": peak_memory, "memory_kind": memory_kind,
        "labelled_positions_per_step_mean": sum(counts) / len(counts),
        "model_flops_per_step": flops_per_step, "flops_formula": FLOPS_FORMULA,
        "tflops": tflops, "mfu": tflops / args.peak_tflops if args.peak_tflops > 0 else None,
        "peak_tflops": args.peak_tflops or None,
        "mean_loss": float(torch.stack(losses).float().mean()),
        "ce_impl": ce_impl, "ce_chunk": chunk if ce_impl == "chunked" else None,
        "attention": "sdpa, " + ("is_causal" if use_is_causal else "boolean attn_mask"),
        "compile": args.compile, "length_dist": args.length_dist,
        "mean_length": args.mean_length if args.length_dist == "geometric" else None,
        "item_dist": args.item_dist, "optimizer": "adam" + (" fused" if cuda else ""),
        "clip_norm": args.clip_norm, "device": device_name, "torch": torch.__version__,
    }
    return result


def describe(r):
    mfu = "" if r["mfu"] is None else ", MFU %.1f%% of %.1f TFLOP/s" % (100 * r["mfu"], r["peak_tflops"])
    return ("pytorch %s/%s %s d=%d L=%d items=%d B=%d layers=%d heads=%d: %.0f seq/s, %.0f pos/s, "
            "ms/step mean %.2f p50 %.2f, peak %.0f MiB (%s), %.3g GFLOP/step, %.1f TFLOP/s%s"
            % (r["model"], r["loss"], r["precision"], r["d_model"], r["max_seq_len"], r["items"], r["batch_size"],
               r["layers"], r["heads"], r["sequences_per_s"], r["positions_per_s"], r["ms_per_step_mean"],
               r["ms_per_step_p50"], r["peak_memory_mib"], r["memory_kind"], r["model_flops_per_step"] / 1e9,
               r["tflops"], mfu))


def measure_peak(args):
    """Dense bf16 matmul throughput: the best of 5 trials of --peak_reps n x n x n matmuls."""
    if torch is None:
        sys.exit("reference_pytorch.py: python torch is not installed")
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    n = args.peak_size
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    c = torch.empty(n, n, device=device, dtype=torch.bfloat16)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(max(3, args.peak_reps // 2)):
        torch.matmul(a, b, out=c)
    sync()
    trials = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(args.peak_reps):
            torch.matmul(a, b, out=c)
        sync()
        trials.append(2.0 * n ** 3 * args.peak_reps / (time.perf_counter() - t0) / 1e12)
    return {"impl": "pytorch", "measure": "bf16_matmul_peak", "size": n, "reps": args.peak_reps,
            "peak_tflops": max(trials), "tflops_trials": trials,
            "device": torch.cuda.get_device_name(device) if cuda else "cpu", "torch": torch.__version__}


# ----------------------------------------------------------------------------- side-by-side table

def _load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _mfu(flops_per_step, ms_per_step, peak_tflops):
    if not flops_per_step or not ms_per_step or not peak_tflops:
        return None
    return flops_per_step / (ms_per_step / 1e3) / (peak_tflops * 1e12)


def markdown_table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def summarize(runs_tsv, peak_json):
    """The side-by-side's markdown table, and its rows as dicts.

    runs_tsv: tab-separated, a header line naming the columns size, model, loss, d_model,
    max_seq_len, items, batch_size, layers, heads, negatives, seqrec_json, seqrec_status,
    ref_json, ref_status. MFU of both sides is flops/step / mean step time / peak; seqrec's
    flops/step is its own model_flops_per_step when its JSON has one, else model_flops()
    with its mean labelled positions per step (marked *).
    """
    peak = (_load_json(peak_json) or {}).get("peak_tflops") if peak_json else None
    with open(runs_tsv) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    header, records = lines[0], [dict(zip(lines[0], l)) for l in lines[1:]]
    rows, out = [], []
    for run in records:
        s = _load_json(run["seqrec_json"]) if run.get("seqrec_status") == "ok" else None
        r = _load_json(run["ref_json"]) if run.get("ref_status") == "ok" else None
        row = {k: run[k] for k in ("size", "model", "loss")}
        row["items"] = int(run["items"]) if run.get("items", "").isdigit() else None
        notes = []
        if s is None:
            notes.append("seqrec " + run.get("seqrec_status", "missing"))
        if r is None:
            notes.append("reference " + run.get("ref_status", "missing"))
        s_seq = s.get("train_sequences_per_s") if s else None
        s_pos = s.get("train_positions_per_s") if s else None
        r_seq = r.get("sequences_per_s") if r else None
        r_pos = r.get("positions_per_s") if r else None
        s_flops, estimated = (s.get("model_flops_per_step") if s else None), False
        if s and not s_flops and s_seq and s_pos and row["items"]:
            positions = s_pos / s_seq * int(run["batch_size"])
            s_flops = model_flops(int(run["batch_size"]), int(run["max_seq_len"]), int(run["d_model"]),
                                  int(run["layers"]), 4 * int(run["d_model"]), row["items"], positions,
                                  run["loss"], int(run["negatives"]))["total"]
            estimated = True
        s_mem = s.get("peak_gpu_memory_mib") if s else None
        if s and s_mem is None and s.get("peak_rss_mib_max") is not None:
            s_mem = s["peak_rss_mib_max"]
            notes.append("seqrec memory is host RSS")
        row.update({
            "seqrec_seq_s": s_seq, "ref_seq_s": r_seq,
            "ratio": s_seq / r_seq if s_seq and r_seq else None,
            "seqrec_pos_s": s_pos, "ref_pos_s": r_pos,
            "pos_ratio": s_pos / r_pos if s_pos and r_pos else None,
            "seqrec_mfu": _mfu(s_flops, s.get("ms_per_step_mean") if s else None, peak),
            "seqrec_mfu_estimated": estimated,
            "ref_mfu": _mfu(r.get("model_flops_per_step") if r else None, r.get("ms_per_step_mean") if r else None,
                            peak),
            "seqrec_mem_mib": s_mem, "ref_mem_mib": r.get("peak_memory_mib") if r else None,
            "ref_ce_impl": r.get("ce_impl") if r else None, "notes": "; ".join(notes),
        })
        out.append(row)
        pct = lambda x: _fmt(None if x is None else 100 * x, ".1f") + ("%" if x is not None else "")
        rows.append([row["size"], row["model"], row["loss"], _fmt(row["items"], ","),
                     _fmt(s_seq, ",.0f"), _fmt(r_seq, ",.0f"), _fmt(row["ratio"], ".2f") + ("x" if row["ratio"] else ""),
                     _fmt(s_pos, ",.0f"), _fmt(r_pos, ",.0f"), _fmt(row["pos_ratio"], ".2f"),
                     pct(row["seqrec_mfu"]) + ("*" if estimated else ""), pct(row["ref_mfu"]),
                     _fmt(s_mem, ",.0f"), _fmt(row["ref_mem_mib"], ",.0f"), row["notes"]])
    headers = ["size", "model", "loss", "items", "seqrec seq/s", "reference seq/s", "ratio", "seqrec pos/s",
               "reference pos/s", "pos ratio", "seqrec MFU", "reference MFU", "seqrec peak MiB",
               "reference peak MiB", "notes"]
    text = [markdown_table(headers, rows), ""]
    text.append("bf16 peak: %s TFLOP/s (measured: %s)" % (_fmt(peak, ".1f"), peak_json or "none"))
    if any(row["seqrec_mfu_estimated"] for row in out):
        text.append("* seqrec MFU from model_flops() and its mean labelled positions per step "
                    "(its JSON has no model_flops_per_step)")
    text.append(FLOPS_FORMULA)
    ratios = [row["ratio"] for row in out]
    if ratios and all(x is not None for x in ratios):
        worst = min(ratios)
        text.append("goal >= 2x the reference at every size: %s (lowest %.2fx)" % ("met" if worst >= 2 else "NOT met",
                                                                                 worst))
    else:
        text.append("goal >= 2x the reference at every size: unknown (a run failed or is missing)")
    large = [row["seqrec_mfu"] for row in out if row["size"] == "large"]
    if large and all(x is not None for x in large):
        text.append("goal >= 40%% MFU at the large size: %s (lowest %.1f%%)"
                    % ("met" if min(large) >= 0.4 else "NOT met", 100 * min(large)))
    elif large:
        text.append("goal >= 40% MFU at the large size: unknown (a run or the peak is missing)")
    return "\n".join(text), out


def write_json(path, payload):
    if path:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")


def main(argv=None):
    args = parse_args(argv)
    if args.summarize:
        text, rows = summarize(args.summarize, args.peak_json)
        print(text)
        write_json(args.json, {"peak_json": args.peak_json, "rows": rows})
        return 0
    if args.measure_peak:
        result = measure_peak(args)
        print("bf16 matmul peak on %s: %.1f TFLOP/s (%d x %d x %d, best of %s)"
              % (result["device"], result["peak_tflops"], result["size"], result["size"], result["size"],
                 ", ".join("%.1f" % t for t in result["tflops_trials"])))
        write_json(args.json, result)
        return 0
    print(FLOPS_FORMULA)
    result = train(args)
    print(describe(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
