"""Stage 1: train the VQ tokenizer (engine Tokenizer, "fast" or "vqgan" arch).

Loss = l1 * L1 + l2 * MSE + gradient * image-gradient L1 + ssim * (1 - SSIM, 2 scales)
     + commitment * ||z - sg(e)||^2 + adversarial * hinge-GAN (PatchGAN, after a warm-up).
The codebook learns by EMA (training.ema_vq): the first ``quantize_start`` steps run without
quantisation, then the codebook starts from k-means of real encoder outputs. Held-out PSNR and
codebook usage are evaluated every ``eval_every`` steps.

Outputs in OUT/tokenizer/: tokenizer.safetensors (final weights + config), state.pt
(resumable), status.json, metrics.jsonl.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from torch.utils.data import DataLoader

from maskgit_studio.engine.config import TokenizerConfig, config_from_dict, config_to_dict
from maskgit_studio.engine.vqgan import Tokenizer
from training import distributed as D
from training.discriminator import PatchDiscriminator
from training.ema_vq import EMACodebook, flatten_latents
from training.losses import (
    generator_adversarial_loss,
    hinge_discriminator_loss,
    reconstruction_terms,
)
from training.metrics import codebook_usage, psnr
from training.progress import MetricsLog, Progress, report_train_step
from training.recipes import recipe_json, tokenizer_config
from training.run_state import (
    STATE_FILE,
    STATUS_FILE,
    capture_rng,
    ignore_stop_signals,
    load_state,
    read_json,
    save_state,
    seed_everything,
    stop_on_signals,
    write_json,
)
from training.stage import (
    Budget,
    CheckpointTimer,
    EpochIndexed,
    StepBatchSampler,
    lr_factor,
    open_dataset,
    step_seed,
)
from training.warm_start import init_tokenizer_from, load_warm_start, warm_start_record

log = logging.getLogger(__name__)

STAGE = "tokenizer"
FINAL_FILE = "tokenizer.safetensors"
RECON_TERMS = ("l1", "l2", "gradient", "ssim")


class _TrainForward(nn.Module):
    """Encoder -> (optional) straight-through quantisation -> decoder, as one DDP-able forward."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer

    def forward(self, images: torch.Tensor, quantize: bool):
        """(B, 3, H, W) -> recon (B, 3, H, W), z (B, D, h, w), indices (B, h, w), commitment."""
        z = self.tokenizer.encode(images)
        if quantize:
            indices = self.tokenizer.quantizer.nearest(z)
            codes = self.tokenizer.quantizer.lookup(indices).to(z.dtype)
            commitment = (z - codes.detach()).pow(2).mean()
            z_q = z + (codes - z).detach()  # straight-through estimator
        else:
            indices = torch.zeros(z.shape[0], *z.shape[2:], dtype=torch.long, device=z.device)
            commitment, z_q = z.new_zeros(()), z
        return self.tokenizer.decode(z_q), z, indices, commitment


def save_tokenizer(path: Path, tokenizer: Tokenizer, info: dict) -> Path:
    """Write tokenizer weights + config (+ ``info``) as one .safetensors file, atomically."""
    from training.run_state import atomic_write

    tensors = {k: v.detach().cpu().contiguous() for k, v in tokenizer.state_dict().items()}
    meta = {"config": json.dumps(config_to_dict(tokenizer.config)), "info": json.dumps(info)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_tokenizer(path: Path, device: str | torch.device = "cpu") -> tuple[Tokenizer, dict]:
    """(Tokenizer in eval mode, info dict) from a file written by ``save_tokenizer``."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no trained tokenizer at {path}; run the tokenizer stage first")
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
        state = {k: fh.get_tensor(k) for k in fh.keys()}
    tokenizer = Tokenizer(config_from_dict(TokenizerConfig, json.loads(meta["config"])))
    tokenizer.load_state_dict(state)
    return tokenizer.to(device).eval(), json.loads(meta["info"])


@torch.no_grad()
def evaluate_tokenizer(
    tokenizer: Tokenizer, images: torch.Tensor, quantized: bool, batch: int = 32
) -> dict[str, float]:
    """Held-out PSNR (dB) and codebook usage of (N, 3, H, W) images."""
    was_training = tokenizer.training
    tokenizer.eval()
    device = next(tokenizer.parameters()).device
    scores, ids = [], []
    for chunk in images.split(batch):
        chunk = chunk.to(device)
        z = tokenizer.encode(chunk)
        if quantized:
            idx = tokenizer.quantizer.nearest(z)
            ids.append(idx.cpu())
            z = tokenizer.quantizer.lookup(idx).to(z.dtype)
        recon = tokenizer.decode(z).clamp(0, 1)
        scores.append(psnr(recon.float().cpu(), chunk.float().cpu()))
    tokenizer.train(was_training)
    out = {"psnr": float(torch.cat(scores).mean())}
    if quantized:
        usage = codebook_usage(torch.cat(ids), tokenizer.config.codebook_size)
        out |= {"usage": usage["usage"], "perplexity": usage["perplexity"]}
    return out


def _is_complete(status: dict | None, cfg: dict) -> bool:
    """Complete under the current budget (a larger budget reopens a finished stage)."""
    if not status or not status.get("complete"):
        return False
    if status["step"] < cfg["steps"]:
        limit = cfg["max_minutes"] * 60
        return limit > 0 and status["elapsed_s"] >= limit
    return True


def train_tokenizer(
    recipe: dict,
    out_dir: str | Path,
    ctx: D.DistContext | None = None,
    stop_at_step: int | None = None,
    restart: bool = False,
) -> dict:
    """Train (or resume) the tokenizer stage; returns the stage status dict.

    Args:
        recipe: a full recipe (training.recipes.load_recipe).
        out_dir: the run folder; the stage writes OUT/tokenizer/.
        ctx: distributed context (default: single process on the recipe's device).
        stop_at_step: save and return once this step is reached (like a SIGTERM there).
        restart: discard an existing checkpoint of this stage first.
    """
    ctx = ctx or D.init_distributed(recipe["device"])
    cfg = recipe["tokenizer"]
    stage_dir = Path(out_dir) / STAGE
    if restart and ctx.is_main and stage_dir.exists():
        shutil.rmtree(stage_dir)
    D.barrier(ctx)
    status = read_json(stage_dir / STATUS_FILE)
    if _is_complete(status, cfg) and (stage_dir / FINAL_FILE).is_file():
        log.info("tokenizer stage already complete (step %d); skipping", status["step"])
        return status

    seed = recipe["seed"]
    seed_everything(seed)
    device = ctx.device
    tokenizer = Tokenizer(tokenizer_config(recipe)).to(device)
    ema = EMACodebook(tokenizer.quantizer, cfg["ema_decay"], cfg["dead_code_threshold"])
    disc = PatchDiscriminator(cfg["disc_channels"]).to(device)
    params = [p for p in tokenizer.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        params, lr=cfg["lr"], betas=(0.9, 0.99), weight_decay=cfg["weight_decay"]
    )
    disc_opt = torch.optim.AdamW(disc.parameters(), lr=cfg["disc_lr"], betas=(0.5, 0.9))

    state = load_state(stage_dir / STATE_FILE)
    step, elapsed, warm = 0, 0.0, None
    if state is not None:
        tokenizer.load_state_dict(state["tokenizer"])
        ema.load_state_dict(state["ema"])
        disc.load_state_dict(state["discriminator"])
        opt.load_state_dict(state["optimizer"])
        disc_opt.load_state_dict(state["disc_optimizer"])
        step, elapsed = int(state["step"]), float(state["elapsed_s"])
        warm = state.get("warm_start")
        log.info("resuming tokenizer from step %d", step)
    elif cfg["init_from"]:
        bundle = load_warm_start(cfg["init_from"])
        init_tokenizer_from(tokenizer, bundle)
        ema.init_from_codebook(cfg["batch_size"] * tokenizer.config.grid_size**2)
        warm = warm_start_record(bundle)

    model, dmodel = D.wrap(_TrainForward(tokenizer), ctx), D.wrap(disc, ctx)
    dataset = open_dataset(recipe, train=True, cache_dir=Path(out_dir) / "cache")
    held = open_dataset(recipe, train=False, length=recipe["data"]["held_out"])
    held_images = torch.stack([held[i][0] for i in range(recipe["data"]["held_out"])])
    workers = recipe["data"]["workers"]
    loader = DataLoader(
        EpochIndexed(dataset),
        batch_sampler=StepBatchSampler(seed, len(dataset), cfg["batch_size"], step, ctx),
        num_workers=workers,
        prefetch_factor=4 if workers else None,
        worker_init_fn=ignore_stop_signals,
    )
    gb = cfg["batch_size"]
    budget = Budget(cfg["steps"], cfg["max_minutes"], elapsed)
    progress = Progress(STAGE, cfg["steps"], gb, "img", budget.max_seconds)
    metrics = MetricsLog(stage_dir / "metrics.jsonl", step, enabled=ctx.is_main)
    timer = CheckpointTimer(cfg["checkpoint_every"], cfg["checkpoint_minutes"])
    weights = {k: cfg[k] for k in RECON_TERMS}
    tokens_per_image = tokenizer.config.grid_size**2
    last_eval: dict[str, float] = dict((status or {}).get("metrics", {}))
    eval_step = -1

    def checkpoint() -> None:
        if ctx.is_main:
            save_state(
                stage_dir / STATE_FILE,
                {
                    "tokenizer": tokenizer.state_dict(),
                    "ema": ema.state_dict(),
                    "discriminator": disc.state_dict(),
                    "optimizer": opt.state_dict(),
                    "disc_optimizer": disc_opt.state_dict(),
                    "step": step,
                    "elapsed_s": budget.elapsed(),
                    "rng": capture_rng(),
                    "recipe": recipe_json(recipe),
                    "data_position": step * gb,
                    "warm_start": warm,
                },
            )
        timer.mark()

    def run_eval() -> None:
        nonlocal last_eval, eval_step
        eval_step = step
        if ctx.is_main:
            last_eval = evaluate_tokenizer(tokenizer, held_images, ema.initialized)
            last_eval["alive"] = ema.alive_fraction()
            metrics.write({"step": step, "kind": "eval", **last_eval})
            log.info("tokenizer eval @%d: %s", step, _fmt(last_eval))

    tokenizer.train()
    progress.start(step)
    reason = None
    with stop_on_signals() as stop:
        batches = iter(loader)
        while True:
            reason = budget.finished(step) or stop.reason
            if stop_at_step is not None and step >= stop_at_step:
                reason = reason or "stop_at_step"
            if D.any_rank(reason is not None, ctx):
                reason = reason or "another rank stopped"
                break
            images, _ = next(batches)
            torch.manual_seed(step_seed(seed, step, ctx.rank))
            images = images.to(device, non_blocking=True)
            if cfg["flip"]:
                flip = torch.rand(images.shape[0]) < 0.5
                images[flip] = images[flip].flip(-1)
            lr_scale = lr_factor(
                step, cfg["warmup_steps"], budget.progress(step), cfg["final_lr_fraction"]
            )
            for group in opt.param_groups:
                group["lr"] = cfg["lr"] * lr_scale
            quantize = step >= cfg["quantize_start"]
            if quantize and not ema.initialized:
                _kmeans_init(recipe, tokenizer, ema, dataset, ctx, gb * tokens_per_image, step)

            recon, z, indices, commitment = model(images, quantize)
            terms = reconstruction_terms(recon, images, weights)
            loss = sum(weights[k] * v for k, v in terms.items()) + cfg["commitment"] * commitment
            adversarial = cfg["adversarial"] > 0 and step >= cfg["adversarial_start"]
            if adversarial:
                disc.requires_grad_(False)  # the generator pass must not touch D's grads
                terms["g_adv"] = generator_adversarial_loss(disc(recon))
                disc.requires_grad_(True)
                loss = loss + cfg["adversarial"] * terms["g_adv"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg["grad_clip"] > 0:
                nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
            opt.step()

            if quantize:
                flat = flatten_latents(z.detach())
                ema.update(flat, indices.flatten(), ctx)
                if cfg["dead_code_every"] and step % cfg["dead_code_every"] == 0:
                    gen = torch.Generator().manual_seed(step_seed(seed, step, salt=1))
                    ema.reset_dead(flat, gen, ctx)
            if adversarial:
                logits = dmodel(torch.cat([images, recon.detach()]))
                real, fake = logits.chunk(2)
                terms["d_loss"] = hinge_discriminator_loss(real, fake)
                disc_opt.zero_grad(set_to_none=True)
                terms["d_loss"].backward()
                disc_opt.step()
            terms["commit"] = commitment.detach()
            terms["loss"] = loss.detach()
            step += 1

            if step % cfg["log_every"] == 0 or step == 1:
                shown = {k: float(v.detach()) for k, v in terms.items()}
                shown["lr"] = cfg["lr"] * lr_scale
                if ema.initialized:  # cumulative dead-code resets: flat once the codebook settles
                    shown["resets"] = ema.total_resets
                report_train_step(
                    progress, metrics, log, ctx.is_main, step, budget.elapsed(), shown
                )
            if cfg["eval_every"] and step % cfg["eval_every"] == 0:
                run_eval()
            if timer.due(step):
                checkpoint()

    complete = reason in ("steps", "time limit")
    if eval_step != step and (complete or last_eval.get("psnr") is None):
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
        "img_per_s": progress.rate,
    }
    if ctx.is_main:
        if complete:
            info = {"step": step, "metrics": last_eval, "recipe": recipe["name"]}
            if warm:
                info["warm_start"] = warm
            save_tokenizer(stage_dir / FINAL_FILE, tokenizer, info)
        write_json(stage_dir / STATUS_FILE, status)
    D.barrier(ctx)
    log.info("tokenizer stage stopped at step %d (%s)", step, reason)
    return status


def _kmeans_init(recipe, tokenizer, ema, dataset, ctx, vectors_per_step, step) -> None:
    """Initialise the codebook from encoder outputs on ``kmeans_images`` training images."""
    cfg = recipe["tokenizer"]
    gen = torch.Generator().manual_seed(step_seed(recipe["seed"], step, salt=2))
    vectors = torch.empty(0)
    if ctx.is_main:
        count = min(cfg["kmeans_images"], len(dataset))
        picks = torch.randperm(len(dataset), generator=gen)[:count].tolist()
        images = torch.stack([dataset[i][0] for i in picks])
        with torch.no_grad():
            chunks = [tokenizer.encode(c.to(ctx.device)) for c in images.split(64)]
        vectors = flatten_latents(torch.cat(chunks)).cpu()
    ema.init_kmeans(vectors, cfg["kmeans_iters"], gen, ctx, vectors_per_step)


def _fmt(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in values.items())
