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
The loop around the steps (resume, budget, logging, evals, checkpoints) is training.loop.
"""

from __future__ import annotations

import copy
import logging
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from maskgit_studio.engine.config import TransformerConfig, config_from_dict
from maskgit_studio.engine.cpu_precision import auto_cpu_precision
from maskgit_studio.engine.device import cpu_has_native_bf16, precision_context
from maskgit_studio.engine.mask_schedule import num_masked_for_training
from maskgit_studio.engine.transformer import MaskGitTransformer
from training import distributed as D
from training.edit_masks import edit_masks
from training.loop import StageSpec, StageSteps, read_weights, run_stage, save_weights
from training.losses import masked_token_loss
from training.pretokenize import load_tokens
from training.recipes import transformer_config
from training.stage import global_batch_indices, step_seed
from training.warm_start import init_transformer_from

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


def training_precision(setting: str, device: torch.device, model: nn.Module | None = None) -> str:
    """The recipe's ``transformer.precision`` ("auto", "fp32", "bf16") -> "fp32" or "bf16".

    auto is bf16 on CUDA; on a CPU, what the engine's one-time probe of ``model``'s layers
    found faster on this machine (``cpu_precision``: bf16 trains the 16x16 default 1.4x faster
    on this project's CPU and is slower on others; small models stay fp32); fp32 elsewhere.
    """
    if setting not in ("auto", "fp32", "bf16"):
        raise ValueError(f"transformer.precision must be auto, fp32 or bf16, not {setting!r}")
    if setting != "auto":
        return setting
    if device.type == "cuda":
        return "bf16"
    if device.type == "cpu" and model is not None:
        return auto_cpu_precision(model, cpu_has_native_bf16()).precision
    return "fp32"


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
    """Write the weights (as float32) + config (+ ``info``) as one .safetensors file."""
    return save_weights(path, model, info, torch.float32)


def load_transformer(path: Path, device="cpu") -> tuple[MaskGitTransformer, dict]:
    """(MaskGitTransformer in eval mode, info dict) from a file written by save_transformer."""
    missing = f"no trained transformer at {path}; run the transformer stage"
    state, config, info = read_weights(path, missing)
    model = MaskGitTransformer(config_from_dict(TransformerConfig, config))
    model.load_state_dict(state)
    return model.to(device).eval(), info


SPEC = StageSpec(STAGE, FINAL_FILE, unit="seq", headline="masked_ce", log=log)


class TransformerSteps(StageSteps):
    """The transformer's part of the training loop (``training.loop``): models, data, one step."""

    def __init__(
        self, recipe: dict, ctx: D.DistContext, train: dict, val: dict, fingerprint: str
    ) -> None:
        self.recipe, self.ctx, self.fingerprint = recipe, ctx, fingerprint
        self.cfg = cfg = recipe["transformer"]
        meta = train["meta"]
        self.config = config = transformer_config(recipe, len(meta["class_names"]))
        if config.grid_size != meta["grid_size"] or config.codebook_size != meta["codebook_size"]:
            raise ValueError("the tokens do not match the recipe's tokenizer (grid or codebook)")
        self.model = MaskGitTransformer(config).to(ctx.device)
        self.precision = training_precision(cfg["precision"], ctx.device, self.model)
        log.info("transformer precision: %s", self.precision)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.opt = torch.optim.AdamW(
            _param_groups(self.model, cfg["weight_decay"]), lr=cfg["lr"], betas=(0.9, cfg["beta2"])
        )
        self.tokens = {"train": train, "val": val}

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.opt.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("tokens") != self.fingerprint:
            raise ValueError(
                "the tokens changed since this transformer run started (tokenizer retrained?); "
                "rerun with --restart to train the transformer from scratch"
            )
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["optimizer"])

    def warm_start(self, bundle: dict) -> None:
        init_transformer_from([self.model, self.ema], bundle)

    def prepare(self, step: int) -> None:
        self.train_set, self.val_set = TokenSet(self.tokens["train"]), TokenSet(self.tokens["val"])
        self.net = D.wrap(self.model, self.ctx)
        self.ctx.local_batch(self.cfg["batch_size"])
        self.model.train()

    def train_step(self, step: int, lr: float) -> dict:
        cfg, ctx, device = self.cfg, self.ctx, self.ctx.device
        seed, gb = self.recipe["seed"], cfg["batch_size"]
        torch.manual_seed(step_seed(seed, step, ctx.rank))  # dropout, masks, flips
        idx = D.shard(global_batch_indices(seed, len(self.train_set), gb, step), ctx)
        tokens, labels = self.train_set.batch(idx, cfg["flip_prob"])
        ids, masked = mask_batch(
            tokens,
            labels,
            self.config,
            cfg["mask_schedule"],
            cfg["class_dropout"],
            edit_fraction=cfg["edit_mask_fraction"],
        )
        for group in self.opt.param_groups:
            group["lr"] = lr
        ids, tokens, masked = ids.to(device), tokens.to(device), masked.to(device)
        with precision_context(device, self.precision):
            logits = self.net(ids)[:, 1:, : self.config.codebook_size]
        loss, acc = masked_token_loss(logits, tokens, masked, cfg["label_smoothing"])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"] > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg["grad_clip"])
        self.opt.step()
        update_ema(self.ema, self.model, cfg["ema_decay"], step)
        return {"loss": loss.detach(), "acc": acc, "lr": lr}

    def evaluate(self, step: int) -> dict[str, float]:
        n, sched, precision = self.cfg["eval_sequences"], self.cfg["mask_schedule"], self.precision
        out = evaluate_transformer(self.ema, self.val_set, n, sched, precision=precision)
        raw = evaluate_transformer(self.model, self.val_set, n, sched, precision=precision)
        out |= {"raw_masked_ce": raw["masked_ce"], "raw_masked_acc": raw["masked_acc"]}
        log.info(
            "transformer eval @%d (EMA): masked CE %.4f, acc %.4f (raw %.4f / %.4f)",
            step,
            out["masked_ce"],
            out["masked_acc"],
            raw["masked_ce"],
            raw["masked_acc"],
        )
        return out

    def save_final(self, path: Path, info: dict) -> None:
        save_transformer(path, self.ema, info)


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
    out_dir = Path(out_dir)
    train, val = load_tokens(out_dir, "train"), load_tokens(out_dir, "val")
    meta = train["meta"]
    fingerprint = f"{meta['tokenizer_sha256'][:16]}-{meta['counts'][0]}"
    build = partial(TransformerSteps, recipe, ctx, train, val, fingerprint)
    identity = {"tokens": fingerprint}
    return run_stage(SPEC, build, recipe, out_dir, ctx, stop_at_step, restart, identity)
