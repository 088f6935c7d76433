"""`maskgit-train curves`: a run folder's metrics drawn as PNG panels."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from training.cli import main as cli_main
from training.curves import COLOURS, PANEL_HEIGHT, WIDTH, read_metrics, run_panels


def _write(path, rows, junk=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in rows]
    if junk:
        lines.insert(1, '{"step": 3, "kind": "ev')  # a write cut short by a kill
    path.write_text("\n".join(lines) + "\n")


def _run(tmp_path):
    run = tmp_path / "run"
    _write(
        run / "tokenizer" / "metrics.jsonl",
        [{"step": s, "kind": "eval", "psnr": 18 + s / 100, "usage": 0.9} for s in range(100, 600, 100)],
        junk=True,
    )  # fmt: skip
    rows = [{"step": s, "kind": "train", "lr": 1e-3 * (1 - s / 1000)} for s in range(0, 1000, 25)]
    rows += [
        {"step": s, "kind": "eval", "masked_acc": s / 4000, "raw_masked_acc": s / 4500}
        for s in range(250, 1001, 250)
    ]
    _write(run / "transformer" / "metrics.jsonl", rows)
    return run


def test_panels_read_both_stages_and_scale_steps_to_sequences(tmp_path):
    run = _run(tmp_path)
    assert len(read_metrics(run / "tokenizer" / "metrics.jsonl")) == 5  # the cut line skipped
    tok, tr = run_panels(run, batch_size=32)
    assert [p for p in tok.series[0].points][0] == (100.0, 19.0)
    acc = tr.series[0].points
    assert acc[-1] == (1000 * 32 / 1000, 0.25) and tr.x_label == "thousand sequences"
    assert run_panels(tmp_path / "nothing") == []
    (run / "tokenizer" / "metrics.jsonl").unlink()
    (steps_only,) = run_panels(run)  # no checkpoint to read the batch from: steps
    assert steps_only.x_label == "steps" and steps_only.series[0].points[-1] == (1000.0, 0.25)


def test_curves_command_draws_every_series(tmp_path, capsys):
    run = _run(tmp_path)
    out = tmp_path / "curves.png"
    assert cli_main(["curves", "--run", str(run), "--out", str(out), "--batch-size", "32"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (2 * PANEL_HEIGHT, WIDTH, 3)
    for panel, count in ((0, 2), (1, 3)):
        part = image[panel * PANEL_HEIGHT : (panel + 1) * PANEL_HEIGHT]
        for colour in COLOURS[:count]:  # each series leaves its own colour in its panel
            assert (part == colour).all(axis=-1).sum() > 50, (panel, colour)


def test_curves_of_an_empty_folder_is_one_line(tmp_path, capsys):
    assert cli_main(["curves", "--run", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no training metrics" in err
