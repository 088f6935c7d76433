"""Stage 1: train the VQ tokenizer (engine Tokenizer, "fast" or "vqgan" arch).

Loss = l1 * L1 + l2 * MSE + gradient * image-gradient L1 + ssim * (1 - SSIM, 2 scales)
     + commitment * ||z - sg(e)||^2 + adversarial * hinge-GAN (PatchGAN, after a warm-up).
The codebook learns by EMA (training.ema_vq): the first ``quantize_start`` steps run without
quantisation, then the codebook starts from k-means of real encoder outputs. Held-out PSNR and
codebook usage are evaluated every ``eval_every`` steps.

Outputs in OUT/tokenizer/: tokenizer.safetensors (final weights + config), state.pt
(resumable), status.json, metrics.jsonl.
The loop around the steps (resume, budget, logging, evals, checkpoints) is training.loop.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import torch
from torch import nn

from maskgit_studio.engine.config import TokenizerConfig, config_from_dict
from maskgit_studio.engine.vqgan import Tokenizer
from training import distributed as D
from training.discriminator import PatchDiscriminator
from training.ema_vq import EMACodebook, flatten_latents
from training.loop import StageSpec, StageSteps, read_weights, run_stage, save_weights
from training.losses import (
    generator_adversarial_loss,
    hinge_discriminator_loss,
    reconstruction_terms,
)
from training.metrics import codebook_usage, psnr
from training.recipes import tokenizer_config
from training.stage import held_out_images, image_batches, step_seed
from training.warm_start import init_tokenizer_from

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
    return save_weights(path, tokenizer, info)


def load_tokenizer(path: Path, device: str | torch.device = "cpu") -> tuple[Tokenizer, dict]:
    """(Tokenizer in eval mode, info dict) from a file written by ``save_tokenizer``."""
    missing = f"no trained tokenizer at {path}; run the tokenizer stage first"
    state, config, info = read_weights(path, missing)
    tokenizer = Tokenizer(config_from_dict(TokenizerConfig, config))
    tokenizer.load_state_dict(state)
    return tokenizer.to(device).eval(), info


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


SPEC = StageSpec(STAGE, FINAL_FILE, unit="img", headline="psnr", log=log)


class TokenizerSteps(StageSteps):
    """The tokenizer's part of the training loop (``training.loop``): models, data, one step."""

    def __init__(self, recipe: dict, out_dir: Path, ctx: D.DistContext) -> None:
        self.recipe, self.out_dir, self.ctx = recipe, out_dir, ctx
        self.cfg = cfg = recipe["tokenizer"]
        device = ctx.device
        self.tokenizer = Tokenizer(tokenizer_config(recipe)).to(device)
        self.ema = EMACodebook(
            self.tokenizer.quantizer, cfg["ema_decay"], cfg["dead_code_threshold"]
        )
        self.disc = PatchDiscriminator(cfg["disc_channels"]).to(device)
        self.params = [p for p in self.tokenizer.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(
            self.params, lr=cfg["lr"], betas=(0.9, 0.99), weight_decay=cfg["weight_decay"]
        )
        self.disc_opt = torch.optim.AdamW(
            self.disc.parameters(), lr=cfg["disc_lr"], betas=(0.5, 0.9)
        )
        self.weights = {k: cfg[k] for k in RECON_TERMS}
        self.vectors_per_step = cfg["batch_size"] * self.tokenizer.config.grid_size**2

    def state_dict(self) -> dict:
        return {
            "tokenizer": self.tokenizer.state_dict(),
            "ema": self.ema.state_dict(),
            "discriminator": self.disc.state_dict(),
            "optimizer": self.opt.state_dict(),
            "disc_optimizer": self.disc_opt.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.tokenizer.load_state_dict(state["tokenizer"])
        self.ema.load_state_dict(state["ema"])
        self.disc.load_state_dict(state["discriminator"])
        self.opt.load_state_dict(state["optimizer"])
        self.disc_opt.load_state_dict(state["disc_optimizer"])

    def warm_start(self, bundle: dict) -> None:
        init_tokenizer_from(self.tokenizer, bundle)
        self.ema.init_from_codebook(self.vectors_per_step)

    def prepare(self, step: int) -> None:
        recipe, ctx = self.recipe, self.ctx
        self.model = D.wrap(_TrainForward(self.tokenizer), ctx)
        self.dmodel = D.wrap(self.disc, ctx)
        self.dataset, self.batches = image_batches(recipe, STAGE, self.out_dir, step, ctx)
        self.held_images = held_out_images(recipe)
        self.tokenizer.train()

    def train_step(self, step: int, lr: float) -> dict:
        cfg, ctx, ema, disc = self.cfg, self.ctx, self.ema, self.disc
        seed = self.recipe["seed"]
        images, _ = next(self.batches)
        torch.manual_seed(step_seed(seed, step, ctx.rank))
        images = images.to(ctx.device, non_blocking=True)
        if cfg["flip"]:
            flip = torch.rand(images.shape[0]) < 0.5
            images[flip] = images[flip].flip(-1)
        for group in self.opt.param_groups:
            group["lr"] = lr
        quantize = step >= cfg["quantize_start"]
        if quantize and not ema.initialized:
            _kmeans_init(
                self.recipe, self.tokenizer, ema, self.dataset, ctx, self.vectors_per_step, step
            )

        recon, z, indices, commitment = self.model(images, quantize)
        terms = reconstruction_terms(recon, images, self.weights)
        loss = sum(self.weights[k] * v for k, v in terms.items()) + cfg["commitment"] * commitment
        adversarial = cfg["adversarial"] > 0 and step >= cfg["adversarial_start"]
        if adversarial:
            disc.requires_grad_(False)  # the generator pass must not touch D's grads
            terms["g_adv"] = generator_adversarial_loss(disc(recon))
            disc.requires_grad_(True)
            loss = loss + cfg["adversarial"] * terms["g_adv"]
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"] > 0:
            nn.utils.clip_grad_norm_(self.params, cfg["grad_clip"])
        self.opt.step()

        if quantize:
            flat = flatten_latents(z.detach())
            ema.update(flat, indices.flatten(), ctx)
            if cfg["dead_code_every"] and step % cfg["dead_code_every"] == 0:
                gen = torch.Generator().manual_seed(step_seed(seed, step, salt=1))
                ema.reset_dead(flat, gen, ctx)
        if adversarial:
            logits = self.dmodel(torch.cat([images, recon.detach()]))
            real, fake = logits.chunk(2)
            terms["d_loss"] = hinge_discriminator_loss(real, fake)
            self.disc_opt.zero_grad(set_to_none=True)
            terms["d_loss"].backward()
            self.disc_opt.step()
        terms["commit"] = commitment
        terms["loss"] = loss
        shown = {k: v.detach() for k, v in terms.items()} | {"lr": lr}
        if ema.initialized:  # cumulative dead-code resets: flat once the codebook settles
            shown["resets"] = ema.total_resets
        return shown

    def evaluate(self, step: int) -> dict[str, float]:
        out = evaluate_tokenizer(self.tokenizer, self.held_images, self.ema.initialized)
        out["alive"] = self.ema.alive_fraction()
        log.info("tokenizer eval @%d: %s", step, _fmt(out))
        return out

    def save_final(self, path: Path, info: dict) -> None:
        save_tokenizer(path, self.tokenizer, info)


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
    out_dir = Path(out_dir)
    build = partial(TokenizerSteps, recipe, out_dir, ctx)
    return run_stage(SPEC, build, recipe, out_dir, ctx, stop_at_step, restart)


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
