"""Stage 3: train the bidirectional transformer by masked visual token modelling (MVTM).

Per sequence: r ~ U(0, 1) masks ceil(gamma(r) * N) random image tokens
(engine.mask_schedule.num_masked_for_training); the loss is label-smoothed cross-entropy over
the image codes at masked positions only. The class token is replaced by the null class with
probability ``class_dropout`` (classifier-free guidance needs it). AdamW with warm-up + cosine
decay, gradient clipping, EMA weights (these are exported). Precision (recipe key
``transformer.precision``): auto = bf16 autocast on CUDA and fp32 elsewhere; fp32; bf16.
Tokens live in memory (from the pretokenize stage), so data loading costs nothing.

Outputs in OUT/transformer/: transformer.safetensors (EMA weights + config), state.pt,
status.json, metrics.jsonl.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from maskgit_studio.engine.config import TransformerConfig, config_from_dict, config_to_dict
from maskgit_studio.engine.device import precision_context
from maskgit_studio.engine.mask_schedule import num_masked_for_training
from maskgit_studio.engine.transformer import MaskGitTransformer
from training import distributed as D
from training.edit_masks import edit_masks
from training.losses import masked_token_loss
from training.pretokenize import load_tokens
from training.progress import MetricsLog, Progress, report_train_step
from training.recipes import recipe_json, transformer_config
from training.run_state import (
    STATE_FILE,
    STATUS_FILE,
    atomic_write,
    capture_rng,
    load_state,
    read_json,
    save_state,
    seed_everything,
    stop_on_signals,
    write_json,
)
from training.stage import Budget, CheckpointTimer, global_batch_indices, lr_factor, step_seed
from training.warm_start import init_transformer_from, load_warm_start, warm_start_record

log = logging.getLogger(__name__)

STAGE = "transformer"
FINAL_FILE = "transformer.safetensors"


class TokenSet:
    """Token grids in memory: (N, h*w) int64 codes, optional mirrored grids, (N,) labels."""

    def __init__(self, data: dict) -> None:
        n = data["tokens"].shape[0]
        self.tokens = torch.from_numpy(data["tokens"].astype(np.int64)).view(n, -1)
        flipped = data["flipped"]
        self.flipped = (
            torch.from_numpy(flipped.astype(np.int64)).view(n, -1) if flipped is not None else None
        )
        self.labels = torch.from_numpy(data["labels"].astype(np.int64))

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def batch(self, idx: torch.Tensor, flip_prob: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) indices -> (B, N) codes (mirrored with ``flip_prob``), (B,) labels."""
        tokens = self.tokens[idx]
        if self.flipped is not None and flip_prob > 0:
            flip = torch.rand(len(idx)) < flip_prob
            tokens = torch.where(flip[:, None], self.flipped[idx], tokens)
        return tokens, self.labels[idx]


def mask_batch(
    tokens: torch.Tensor,
    labels: torch.Tensor,
    config: TransformerConfig,
    schedule: str,
    class_dropout: float,
    generator: torch.Generator | None = None,
    edit_fraction: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build MVTM inputs from (B, N) codes and (B,) labels.

    A share ``edit_fraction`` of the sequences masks an edit-shaped region (box, box with its
    ring, blob, border strip; see ``training.edit_masks``) instead of random tokens.

    Returns:
        (B, 1+N) input ids (class token or null class, then codes with masked ones = mask_id)
        and the (B, N) bool mask of positions to predict.
    """
    b, n = tokens.shape
    counts = num_masked_for_training(schedule, n, b, generator=generator)  # (B,) in [1, N]
    ranks = torch.rand(b, n, generator=generator).argsort(1).argsort(1)
    masked = ranks < counts[:, None]
    if edit_fraction > 0:
        is_edit = torch.rand(b, generator=generator) < edit_fraction
        if is_edit.any():
            side = config.grid_size
            masked[is_edit] = edit_masks(int(is_edit.sum()), side, schedule, generator)
    class_ids = labels + config.codebook_size
    if class_dropout > 0:
        drop = torch.rand(b, generator=generator) < class_dropout
        class_ids = torch.where(drop, config.null_class_id, class_ids)
    inputs = torch.where(masked, config.mask_id, tokens)
    return torch.cat([class_ids[:, None], inputs], dim=1), masked


def training_precision(setting: str, device: torch.device) -> str:
    """The recipe's ``transformer.precision`` ("auto", "fp32", "bf16") -> "fp32" or "bf16".

    auto is bf16 on CUDA and fp32 elsewhere: on CPUs bf16 autocast is faster on some machines
    and slower on others (CALIBRATION.md), so it is an explicit, measured choice there.
    """
    if setting not in ("auto", "fp32", "bf16"):
        raise ValueError(f"transformer.precision must be auto, fp32 or bf16, not {setting!r}")
    if setting == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return setting


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on dense weight matrices only (not embeddings, biases, LayerNorms)."""
    decay, plain = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embeddings" not in name else plain).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """ema = d * ema + (1 - d) * model, with d ramped up early so EMA weights are usable soon."""
    d = min(decay, (1 + step) / (10 + step))
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach().to(e.dtype), 1 - d)


@torch.no_grad()
def evaluate_transformer(
    model: MaskGitTransformer,
    data: TokenSet,
    count: int,
    schedule: str,
    batch: int = 64,
    precision: str = "fp32",
) -> dict[str, float]:
    """Masked-token cross-entropy (nats) and accuracy on ``count`` held-out sequences.

    Masks come from a fixed-seed generator, so successive evaluations are comparable.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(1234)
    k = model.config.codebook_size
    total_loss = total_acc = total_n = 0.0
    for start in range(0, min(count, len(data)), batch):
        idx = torch.arange(start, min(start + batch, count, len(data)))
        tokens, labels = data.tokens[idx], data.labels[idx]
        ids, masked = mask_batch(tokens, labels, model.config, schedule, 0.0, gen)
        with precision_context(device, precision):
            logits = model(ids.to(device))[:, 1:, :k]
        loss, acc = masked_token_loss(logits.float(), tokens.to(device), masked.to(device))
        m = float(masked.sum())
        total_loss += float(loss) * m
        total_acc += float(acc) * m
        total_n += m
    model.train(was_training)
    return {"masked_ce": total_loss / total_n, "masked_acc": total_acc / total_n}


def save_transformer(path: Path, model: MaskGitTransformer, info: dict) -> Path:
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in model.state_dict().items()}
    meta = {"config": json.dumps(config_to_dict(model.config)), "info": json.dumps(info)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_transformer(path: Path, device="cpu") -> tuple[MaskGitTransformer, dict]:
    """(MaskGitTransformer in eval mode, info dict) from a file written by save_transformer."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no trained transformer at {path}; run the transformer stage")
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
        state = {k: fh.get_tensor(k) for k in fh.keys()}
    model = MaskGitTransformer(config_from_dict(TransformerConfig, json.loads(meta["config"])))
    model.load_state_dict(state)
    return model.to(device).eval(), json.loads(meta["info"])


def _is_complete(status: dict | None, cfg: dict, fingerprint: str) -> bool:
    if not status or not status.get("complete") or status.get("tokens") != fingerprint:
        return False
    if status["step"] < cfg["steps"]:
        return cfg["max_minutes"] > 0 and status["elapsed_s"] >= cfg["max_minutes"] * 60
    return True


def train_transformer(
    recipe: dict,
    out_dir: str | Path,
    ctx: D.DistContext | None = None,
    stop_at_step: int | None = None,
    restart: bool = False,
) -> dict:
    """Train (or resume) the transformer stage; returns the stage status dict.

    Args: as ``training.train_tokenizer.train_tokenizer``.
    """
    ctx = ctx or D.init_distributed(recipe["device"])
    cfg = recipe["transformer"]
    out_dir = Path(out_dir)
    stage_dir = out_dir / STAGE
    if restart and ctx.is_main and stage_dir.exists():
        shutil.rmtree(stage_dir)
    D.barrier(ctx)
    train_data, val_data = load_tokens(out_dir, "train"), load_tokens(out_dir, "val")
    meta = train_data["meta"]
    fingerprint = f"{meta['tokenizer_sha256'][:16]}-{meta['counts'][0]}"
    status = read_json(stage_dir / STATUS_FILE)
    if _is_complete(status, cfg, fingerprint) and (stage_dir / FINAL_FILE).is_file():
        log.info("transformer stage already complete (step %d); skipping", status["step"])
        return status

    seed, device = recipe["seed"], ctx.device
    precision = training_precision(cfg["precision"], device)
    seed_everything(seed)
    config = transformer_config(recipe, len(meta["class_names"]))
    if config.grid_size != meta["grid_size"] or config.codebook_size != meta["codebook_size"]:
        raise ValueError("the tokens do not match the recipe's tokenizer (grid or codebook)")
    model = MaskGitTransformer(config).to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(
        _param_groups(model, cfg["weight_decay"]), lr=cfg["lr"], betas=(0.9, cfg["beta2"])
    )
    state = load_state(stage_dir / STATE_FILE)
    step, elapsed, warm = 0, 0.0, None
    if state is not None:
        if state.get("tokens") != fingerprint:
            raise ValueError(
                "the tokens changed since this transformer run started (tokenizer retrained?); "
                "rerun with --restart to train the transformer from scratch"
            )
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed = int(state["step"]), float(state["elapsed_s"])
        warm = state.get("warm_start")
        log.info("resuming transformer from step %d", step)
    elif cfg["init_from"]:
        bundle = load_warm_start(cfg["init_from"])
        init_transformer_from([model, ema], bundle)
        warm = warm_start_record(bundle)

    train, val = TokenSet(train_data), TokenSet(val_data)
    net = D.wrap(model, ctx)
    gb, k = cfg["batch_size"], config.codebook_size
    ctx.local_batch(gb)
    budget = Budget(cfg["steps"], cfg["max_minutes"], elapsed)
    progress = Progress(STAGE, cfg["steps"], gb, "seq", budget.max_seconds)
    metrics = MetricsLog(stage_dir / "metrics.jsonl", step, enabled=ctx.is_main)
    timer = CheckpointTimer(cfg["checkpoint_every"], cfg["checkpoint_minutes"])
    last_eval: dict[str, float] = dict((status or {}).get("metrics", {}))
    eval_step = -1

    def checkpoint() -> None:
        if ctx.is_main:
            save_state(
                stage_dir / STATE_FILE,
                {
                    "model": model.state_dict(),
                    "ema": ema.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "elapsed_s": budget.elapsed(),
                    "rng": capture_rng(),
                    "recipe": recipe_json(recipe),
                    "tokens": fingerprint,
                    "data_position": step * gb,
                    "warm_start": warm,
                },
            )
        timer.mark()

    def run_eval() -> None:
        nonlocal last_eval, eval_step
        eval_step = step
        if ctx.is_main:
            n, sched = cfg["eval_sequences"], cfg["mask_schedule"]
            last_eval = evaluate_transformer(ema, val, n, sched, precision=precision)
            raw = evaluate_transformer(model, val, n, sched, precision=precision)
            last_eval |= {"raw_masked_ce": raw["masked_ce"], "raw_masked_acc": raw["masked_acc"]}
            metrics.write({"step": step, "kind": "eval", **last_eval})
            log.info(
                "transformer eval @%d (EMA): masked CE %.4f, acc %.4f (raw %.4f / %.4f)",
                step,
                last_eval["masked_ce"],
                last_eval["masked_acc"],
                raw["masked_ce"],
                raw["masked_acc"],
            )

    model.train()
    progress.start(step)
    reason = None
    with stop_on_signals() as stop:
        while True:
            reason = budget.finished(step) or stop.reason
            if stop_at_step is not None and step >= stop_at_step:
                reason = reason or "stop_at_step"
            if D.any_rank(reason is not None, ctx):
                reason = reason or "another rank stopped"
                break
            torch.manual_seed(step_seed(seed, step, ctx.rank))  # dropout, masks, flips
            idx = D.shard(global_batch_indices(seed, len(train), gb, step), ctx)
            tokens, labels = train.batch(idx, cfg["flip_prob"])
            ids, masked = mask_batch(
                tokens,
                labels,
                config,
                cfg["mask_schedule"],
                cfg["class_dropout"],
                edit_fraction=cfg["edit_mask_fraction"],
            )
            lr = cfg["lr"] * lr_factor(
                step, cfg["warmup_steps"], budget.progress(step), cfg["final_lr_fraction"]
            )
            for group in opt.param_groups:
                group["lr"] = lr
            ids, tokens, masked = ids.to(device), tokens.to(device), masked.to(device)
            with precision_context(device, precision):
                logits = net(ids)[:, 1:, :k]
            loss, acc = masked_token_loss(logits, tokens, masked, cfg["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg["grad_clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            opt.step()
            update_ema(ema, model, cfg["ema_decay"], step)
            step += 1

            if step % cfg["log_every"] == 0 or step == 1:
                shown = {"loss": float(loss.detach()), "acc": float(acc), "lr": lr}
                report_train_step(
                    progress, metrics, log, ctx.is_main, step, budget.elapsed(), shown
                )
            if cfg["eval_every"] and step % cfg["eval_every"] == 0:
                run_eval()
            if timer.due(step):
                checkpoint()

    complete = reason in ("steps", "time limit")
    if eval_step != step and (complete or "masked_ce" not in last_eval):
        run_eval()
    checkpoint()
    status = {
        "stage": STAGE,
        "step": step,
        "steps": cfg["steps"],
        "complete": complete,
        "reason": reason,
        "elapsed_s": budget.elapsed(),
        "metrics": last_eval,
        "seq_per_s": progress.rate,
        "tokens": fingerprint,
    }
    if ctx.is_main:
        if complete:
            info = {"step": step, "metrics": last_eval, "recipe": recipe["name"]}
            if warm:
                info["warm_start"] = warm
            save_transformer(stage_dir / FINAL_FILE, ema, info)
        write_json(stage_dir / STATUS_FILE, status)
    D.barrier(ctx)
    log.info("transformer stage stopped at step %d (%s)", step, reason)
    return status
