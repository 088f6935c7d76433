"""Branch from step k: choose a new seed, temperature and class for the rest of the decode."""

from __future__ import annotations

import random
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
