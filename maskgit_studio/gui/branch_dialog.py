"""Branch from step k: choose a new seed, temperature and class for the rest of the decode."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .class_picker import ClassPicker
from .params_panel import MAX_SEED


@dataclass(frozen=True)
class BranchChoice:
    class_id: int | None
    seed: int
    temperature: float


def ask_branch(
    parent: QWidget,
    step: int,
    names: tuple[str, ...],
    allow_none: bool,
    current: BranchChoice,
) -> BranchChoice | None:
    """A modal dialog; returns the choice, or None if cancelled. ``step`` is 1-based."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(f"Branch from step {step}")
    intro = QLabel(
        f"Keep the tokens committed up to step {step} and decode the rest again with new settings."
    )
    intro.setWordWrap(True)
    picker = ClassPicker(dialog)
    picker.set_classes(names, allow_none)
    picker.set_class(current.class_id)
    seed = QSpinBox(maximum=MAX_SEED, value=random.randint(0, MAX_SEED))
    dice = QPushButton("New")
    dice.clicked.connect(lambda: seed.setValue(random.randint(0, MAX_SEED)))
    seed_row = QHBoxLayout()
    seed_row.addWidget(seed, 1)
    seed_row.addWidget(dice)
    temperature = QDoubleSpinBox(maximum=20.0, singleStep=0.5, value=current.temperature)
    form = QFormLayout()
    form.addRow("Seed", seed_row)
    form.addRow("Temperature", temperature)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Branch")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(intro)
    layout.addWidget(picker)
    layout.addLayout(form)
    layout.addWidget(buttons)
    dialog.resize(380, 460)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return BranchChoice(picker.current_class(), seed.value(), temperature.value())


def choose_branch(
    parent: QWidget,
    step: int,
    current: BranchChoice,
    names: tuple[str, ...],
    allow_none: bool,
    ask_hook: Callable[[str, str], str] | None = None,
) -> BranchChoice | None:
    """The user's choice for a branch after step ``step`` (0-based), or None. ``ask_hook``
    (tests) answers "class,seed,temperature" instead of the dialog."""
    if ask_hook is None:
        return ask_branch(parent, step + 1, names, allow_none, current)
    class_id, seed, temperature = ask_hook("branch", str(step)).split(",")
    return BranchChoice(
        None if class_id == "none" else int(class_id), int(seed), float(temperature)
    )
