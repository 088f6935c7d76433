"""Stage 2: encode the dataset with the trained tokenizer into token arrays.

Writes OUT/tokens/: for each split ("train": ``pretokenize.images`` training images, "val":
``pretokenize.held_out`` held-out images)
  SPLIT_tokens.npy          (N, h, w) uint16 code ids
  SPLIT_tokens_flipped.npy  (N, h, w) uint16 ids of the mirrored images (if pretokenize.flip)
  SPLIT_labels.npy          (N,) int32 class labels
and meta.json (written last: it marks the stage complete) with the grid, codebook size, class
names, counts, the data description and the tokenizer's SHA-256 (a retrained tokenizer makes
the tokens stale, and this stage runs again). Work is resumable: rows go into memory-mapped
.npy files and progress.json records how many are done. Runs on rank 0 only.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from training import distributed as D
from training.progress import format_duration
from training.run_state import ignore_stop_signals, read_json, stop_on_signals, write_json
from training.stage import is_procedural, open_dataset
from training.train_tokenizer import FINAL_FILE, load_tokenizer

log = logging.getLogger(__name__)

STAGE_DIR = "tokens"
META_FILE = "meta.json"
PROGRESS_FILE = "progress.json"
FLUSH_SECONDS = 30.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_tokens(out_dir: str | Path, split: str = "train") -> dict:
    """The token arrays of a split: {"tokens", "flipped" (or None), "labels", "meta"}."""
    folder = Path(out_dir) / STAGE_DIR
    meta = read_json(folder / META_FILE)
    if meta is None:
        raise FileNotFoundError(f"no tokens in {folder}; run the pretokenize stage first")
    flipped = folder / f"{split}_tokens_flipped.npy"
    return {
        "tokens": np.load(folder / f"{split}_tokens.npy"),
        "flipped": np.load(flipped) if flipped.is_file() else None,
        "labels": np.load(folder / f"{split}_labels.npy"),
        "meta": meta,
    }


def pretokenize(
    recipe: dict, out_dir: str | Path, ctx: D.DistContext | None = None, restart: bool = False
) -> dict:
    """Tokenise the recipe's dataset (resumable); returns the stage status dict."""
    ctx = ctx or D.init_distributed(recipe["device"])
    out_dir = Path(out_dir)
    folder = out_dir / STAGE_DIR
    tok_path = out_dir / "tokenizer" / FINAL_FILE
    if not tok_path.is_file():
        raise FileNotFoundError(f"no trained tokenizer at {tok_path}; run the tokenizer stage")
    status: dict = {"stage": "pretokenize", "complete": True}
    if ctx.is_main:
        status = _pretokenize_main(recipe, folder, tok_path, ctx.device, restart)
    D.barrier(ctx)
    return status


def _pretokenize_main(recipe, folder: Path, tok_path: Path, device, restart: bool) -> dict:
    cfg = recipe["pretokenize"]
    sha = file_sha256(tok_path)
    meta = read_json(folder / META_FILE)
    wanted = {
        "tokenizer_sha256": sha,
        "requested": [cfg["images"], cfg["held_out"]],
        "flip": cfg["flip"],
        "source": recipe["data"]["source"],
    }
    if meta and not restart and all(meta.get(k) == v for k, v in wanted.items()):
        log.info("pretokenize already complete (%d training images); skipping", meta["counts"][0])
        return {"stage": "pretokenize", "complete": True, "meta": meta}
    progress = read_json(folder / PROGRESS_FILE) or {}
    if restart or meta or progress.get("wanted") != wanted:
        shutil.rmtree(folder, ignore_errors=True)  # stale tokens: start this stage over
        progress = {}
    folder.mkdir(parents=True, exist_ok=True)
    progress["wanted"] = wanted

    tokenizer, tok_info = load_tokenizer(tok_path, device)
    if tokenizer.config.codebook_size > 65536:
        raise ValueError("codebook too large for uint16 token files")
    procedural = is_procedural(recipe)
    splits = {
        # Folder datasets: centre crops (no random augmentation baked into the tokens).
        "train": open_dataset(
            recipe, train=procedural, length=cfg["images"], cache_dir=folder.parent / "cache"
        ),
        "val": open_dataset(recipe, train=False, length=cfg["held_out"]),
    }
    counts = []
    started = time.monotonic()
    with stop_on_signals() as stop:
        for name, dataset in splits.items():
            n = min(cfg["images"] if name == "train" else cfg["held_out"], len(dataset))
            counts.append(n)
            done = _encode_split(recipe, tokenizer, dataset, n, name, folder, progress, stop)
            if done < n:
                write_json(folder / PROGRESS_FILE, progress)
                log.info("pretokenize stopped at %d/%d %s images", done, n, name)
                return {"stage": "pretokenize", "complete": False, "reason": stop.reason}
    g = tokenizer.config.grid_size
    meta = {
        **wanted,
        "counts": counts,
        "grid_size": g,
        "codebook_size": tokenizer.config.codebook_size,
        "class_names": list(splits["train"].class_names),
        "image_size": tokenizer.config.image_size,
        "tokenizer_step": tok_info.get("step"),
        "tokenizer_metrics": tok_info.get("metrics", {}),
        "seconds": round(time.monotonic() - started, 1),
    }
    write_json(folder / META_FILE, meta)
    (folder / PROGRESS_FILE).unlink(missing_ok=True)
    log.info(
        "pretokenized %d + %d images in %s", counts[0], counts[1], format_duration(meta["seconds"])
    )
    return {"stage": "pretokenize", "complete": True, "meta": meta}


def _encode_split(recipe, tokenizer, dataset, n, name, folder, progress, stop) -> int:
    """Fill rows [done, n) of the split's arrays; returns rows done (n unless stopped)."""
    cfg = recipe["pretokenize"]
    g = tokenizer.config.grid_size
    done = int(progress.get(name, 0))
    mode = "r+" if done else "w+"
    arrays = {
        "tokens": np.lib.format.open_memmap(
            folder / f"{name}_tokens.npy", mode=mode, dtype=np.uint16, shape=(n, g, g)
        )
    }
    if cfg["flip"]:
        arrays["flipped"] = np.lib.format.open_memmap(
            folder / f"{name}_tokens_flipped.npy", mode=mode, dtype=np.uint16, shape=(n, g, g)
        )
    labels = np.lib.format.open_memmap(
        folder / f"{name}_labels.npy", mode=mode, dtype=np.int32, shape=(n,)
    )
    if done >= n:
        return n
    workers = cfg["workers"]
    loader = DataLoader(
        torch.utils.data.Subset(dataset, range(done, n)),
        batch_size=cfg["batch_size"],
        num_workers=workers,
        worker_init_fn=ignore_stop_signals,
    )
    device = next(tokenizer.parameters()).device
    t0 = last_flush = time.monotonic()
    start = done
    with torch.no_grad():
        for images, batch_labels in loader:
            images = images.to(device)
            b = images.shape[0]
            arrays["tokens"][done : done + b] = tokenizer.encode_to_indices(images).cpu().numpy()
            if "flipped" in arrays:
                ids = tokenizer.encode_to_indices(images.flip(-1))
                arrays["flipped"][done : done + b] = ids.cpu().numpy()
            labels[done : done + b] = batch_labels.numpy()
            done += b
            if stop or time.monotonic() - last_flush > FLUSH_SECONDS:
                _flush(arrays, labels)
                progress[name] = done
                write_json(folder / PROGRESS_FILE, progress)
                rate = (done - start) / max(time.monotonic() - t0, 1e-9)
                log.info("pretokenize %s %d/%d | %.1f img/s", name, done, n, rate)
                last_flush = time.monotonic()
            if stop:
                break
    _flush(arrays, labels)
    progress[name] = done
    return done


def _flush(arrays: dict, labels) -> None:
    for a in (*arrays.values(), labels):
        a.flush()
