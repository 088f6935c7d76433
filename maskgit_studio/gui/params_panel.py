"""The parameters panel: model, device, class, sampling and editing settings."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from maskgit_studio.engine.config import SCHEDULES, SamplerConfig
from maskgit_studio.engine.results import ModelInfo
from maskgit_studio.engine.session import Blend, EditOptions, default_context

from .class_picker import ClassPicker

MAX_SEED = 2**31 - 1
# What Run does with a mask: (combo text, operation).
MASK_OPERATIONS = (
    ("Inpaint", "inpaint"),
    ("Refine (image to image)", "refine"),
    ("Remove object", "remove_object"),
    ("Add detail (finer scale)", "add_detail"),
)
# The operations the strength slider applies to: how much of the region is decoded again.
STRENGTH_OPERATIONS = ("refine", "add_detail")
BLENDS = (("Seamless", "poisson"), ("Alpha feather (official)", "alpha"))
DOWNLOAD_PREFIX = "download:"  # model combo data of "Get ImageNet …" items


class ParamsPanel(QWidget):
    """Settings for the next run.

    Signals:
        model_chosen(str): a model path (from the list or "Open model file…").
        download_requested(str): an official model's name ("Get ImageNet 256 (866 MB)…").
        device_chosen(str): a device name.
        scale_changed(int): the working scale.
        browse_model(): the user wants to pick a model file.
    """

    model_chosen = Signal(str)
    download_requested = Signal(str)
    device_chosen = Signal(str)
    scale_changed = Signal(int)
    browse_model = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox()
        self.model_combo.setToolTip(
            "The model that draws: the bundled one, or one you imported or trained"
        )
        self.browse_button = QPushButton("…")
        self.browse_button.setToolTip("Open a model file (.safetensors)")
        self.browse_button.setFixedWidth(28)
        self.device_combo = QComboBox()
        self.device_combo.setToolTip(
            "Where the model runs: a graphics card is fastest, cpu always works"
        )
        self.info_label = QLabel("No model loaded")
        self.info_label.setWordWrap(True)
        self.info_label.setStyleSheet("color: #9aa0a8; font-size: 11px;")
        self.class_picker = ClassPicker()
        self.steps = _spin(
            1, 64, 12, "How many rounds the model takes to fill in the picture: more is finer"
        )
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.schedule.setToolTip(
            "How many cells each round uncovers: cosine starts slow, as in the paper"
        )
        self.temperature = _dspin(
            0.0, 20.0, 4.5, 0.5, "How adventurous the choices are: higher gives more varied results"
        )
        self.seed = _spin(
            0, MAX_SEED, 0, "The dice roll behind a run: the same seed repeats a result"
        )
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Locked: every run uses this seed; unlocked: a new seed per run")
        self.dice = QPushButton("New")
        self.dice.setFixedWidth(44)
        self.dice.setToolTip("Roll a new seed")
        self.variations = _spin(
            1, 16, 1, "How many versions one run makes (browse them with Left/Right)"
        )
        self.guidance = _dspin(
            0.0, 20.0, 0.0, 0.5, "How strongly the picture follows the chosen class"
        )
        self.guidance_label = QLabel("Guidance")
        self.feather = _spin(
            -1,
            256,
            -1,
            "How many pixels the new part blends into the old at its edge (auto: the model's)",
        )
        self.feather.setSpecialValueText("auto")
        self.scale = _spin(
            1,
            64,
            1,
            "The brush grid: a cell is f × scale picture pixels, and at this scale the model's "
            "output is enlarged scale times",
        )
        self.fit_window = QCheckBox("Fit the window to each edit")
        self.fit_window.setChecked(True)
        self.fit_window.setToolTip(
            "On: each edit is decoded at the smallest scale that holds it and some picture "
            "around it, so a small edit on a big photo stays sharp. Off: edits use the working "
            "scale."
        )
        self.scale_note = QLabel("")
        self.scale_note.setWordWrap(True)
        self.scale_note.setStyleSheet("color: #9aa0a8; font-size: 11px;")
        self.context = _spin(
            -1, 32, -1, "Cells of picture the model sees around an edit, on every side (auto: "
            "the model's)",
        )  # fmt: skip
        self.context.setSpecialValueText("auto")
        self.blend = QComboBox()
        for text, mode in BLENDS:
            self.blend.addItem(text, mode)
        self.blend.setToolTip(
            "Seamless: the result takes the picture's colours, grain and edges (gradient-domain "
            "blend). Alpha feather: pasted with a soft edge, as the original MaskGIT did"
        )
        self.mask_operation = QComboBox()
        for text, op in MASK_OPERATIONS:
            self.mask_operation.addItem(text, op)
        self.mask_operation.setToolTip(
            "What Run does with the mask: redraw it, rework it (Refine: re-draw part of it, "
            "keeping the rest), fill it with background, or add detail (redraw part of it at "
            "the finest scale, for a fill that came out enlarged and soft)"
        )
        self.strength = QSlider(Qt.Orientation.Horizontal, minimum=5, maximum=100, value=50)
        self.strength.setToolTip(
            "Refine and Add detail: how much of the masked area is redrawn (Refine: the parts "
            "the model finds least likely first; Add detail: at random); 100 % = inpaint"
        )
        self.strength_label = QLabel("50 %")
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v} %"))
        self.mask_operation.currentIndexChanged.connect(self._operation_changed)
        self._factor, self._grid = 16, 8
        self._guidance_ok = False
        self._build()
        self._current_model: str | None = None
        self.model_combo.activated.connect(self._model_activated)
        self.browse_button.clicked.connect(self.browse_model)
        self.device_combo.activated.connect(
            lambda i: self.device_chosen.emit(self.device_combo.itemText(i))
        )
        self.dice.clicked.connect(self.randomise_seed)
        self.scale.valueChanged.connect(self.scale_changed)
        for signal in (self.scale.valueChanged, self.context.valueChanged):
            signal.connect(self._update_scale_note)
        self.fit_window.toggled.connect(self._update_scale_note)
        self.set_model_info(None)
        self._operation_changed()

    def _build(self) -> None:
        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        row = QHBoxLayout()
        row.addWidget(self.model_combo, 1)
        row.addWidget(self.browse_button)
        form.addRow("Model", row)
        form.addRow("Device", self.device_combo)
        form.addRow(self.info_label)
        class_box = QGroupBox("Class")
        QVBoxLayout(class_box).addWidget(self.class_picker)
        sampling = QGroupBox("Sampling")
        form = QFormLayout(sampling)
        form.addRow("Iterations", self.steps)
        form.addRow("Schedule", self.schedule)
        form.addRow("Temperature", self.temperature)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_lock)
        seed_row.addWidget(self.dice)
        form.addRow("Seed", seed_row)
        form.addRow("Variations", self.variations)
        form.addRow(self.guidance_label, self.guidance)
        editing = QGroupBox("Editing")
        form = QFormLayout(editing)
        form.addRow("Mask", self.mask_operation)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        form.addRow("Strength", strength_row)
        form.addRow("Blend", self.blend)
        form.addRow("Feather", self.feather)
        form.addRow("Working scale", self.scale)
        form.addRow(self.fit_window)
        form.addRow("Context", self.context)
        form.addRow(self.scale_note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for box in (model_box, class_box, sampling, editing):
            layout.addWidget(box)
        layout.addStretch(0)

    # -- filling ---------------------------------------------------------------------------
    def set_models(self, entries: list, current: str | None, downloads: list = ()) -> None:
        """``entries``: engine ModelEntry records (name, path, source); ``downloads``: official
        models to offer ("Get ImageNet 256 (866 MB)…"), each with ``name`` and ``label``."""
        if current is not None:
            self._current_model = current
        current = self._current_model
        with QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            for entry in entries:
                self.model_combo.addItem(f"{entry.name} ({entry.source})", str(entry.path))
            if current is not None and self.model_combo.findData(current) < 0:
                self.model_combo.addItem(Path(current).stem, current)
            if downloads:
                self.model_combo.insertSeparator(self.model_combo.count())
            for model in downloads:
                self.model_combo.addItem(f"Get {model.label}…", DOWNLOAD_PREFIX + model.name)
            if current is not None:
                self.model_combo.setCurrentIndex(self.model_combo.findData(current))

    def _model_activated(self, index: int) -> None:
        data = self.model_combo.itemData(index)
        if isinstance(data, str) and data.startswith(DOWNLOAD_PREFIX):
            with QSignalBlocker(self.model_combo):  # the current model stays shown
                self.model_combo.setCurrentIndex(self.model_combo.findData(self._current_model))
            self.download_requested.emit(data[len(DOWNLOAD_PREFIX) :])
        elif data:
            self.model_chosen.emit(data)

    def set_devices(self, devices: list[str], current: str) -> None:
        with QSignalBlocker(self.device_combo):
            self.device_combo.clear()
            self.device_combo.addItems(devices)
            index = self.device_combo.findText(current.split(":")[0])
            self.device_combo.setCurrentIndex(max(index, 0))

    def set_model_info(self, info: ModelInfo | None) -> None:
        """Show what the model can do (guidance only where it has a null class)."""
        supports = bool(info and info.supports_guidance)
        self._guidance_ok = supports
        self.guidance.setVisible(supports)
        self.guidance_label.setVisible(supports)
        if not supports:
            self.guidance.setValue(0.0)
        if info is None:
            self.info_label.setText("No model loaded")
            self.class_picker.set_classes([], False)
            self._update_scale_note()
            return
        self._factor, self._grid = info.downsample_factor, info.grid_size
        self._update_scale_note()
        self.info_label.setText(
            f"{info.image_size} px, {info.grid_size}×{info.grid_size} tokens (f = "
            f"{info.downsample_factor}), {len(info.class_names)} classes, "
            f"{info.parameters / 1e6:.1f} M parameters, on {info.device} ({info.precision})"
        )
        self.info_label.setToolTip(
            f"Transformer precision: {info.precision} ({info.precision_reason})"
        )
        self.class_picker.set_classes(info.class_names, info.supports_guidance)

    def apply_sampler(self, sampler: SamplerConfig) -> None:
        """Show a model's recommended settings (the seed and its lock stay the user's)."""
        self.steps.setValue(sampler.steps)
        self.schedule.setCurrentText(sampler.schedule)
        self.temperature.setValue(sampler.choice_temperature)
        self.guidance.setValue(sampler.guidance_scale if self._guidance_ok else 0.0)

    def set_scale(self, scale: int) -> None:
        with QSignalBlocker(self.scale):
            self.scale.setValue(scale)

    # -- reading ---------------------------------------------------------------------------
    def randomise_seed(self) -> int:
        self.seed.setValue(random.randint(0, MAX_SEED))
        return self.seed.value()

    def sampler(self, new_seed: bool = True) -> SamplerConfig:
        """The sampler for the next run; an unlocked seed is re-drawn first (``new_seed``)."""
        if new_seed and not self.seed_lock.isChecked():
            self.randomise_seed()
        return SamplerConfig(
            steps=self.steps.value(),
            schedule=self.schedule.currentText(),
            choice_temperature=self.temperature.value(),
            guidance_scale=self.guidance.value() if self._guidance_ok else 0.0,
            seed=self.seed.value(),
        )

    def edit_options(self) -> EditOptions:
        """Context, blend and the pixel-precise composite for the next edit."""
        context = None if self.context.value() < 0 else self.context.value()
        return EditOptions(context=context, blend=Blend(self.blend.currentData()))

    def edit_scale(self, working_scale: int) -> int | None:
        """The scale the next edit runs at: None (fitted to the edit) or the working scale."""
        return None if self.fit_window.isChecked() else working_scale

    def operation(self) -> str:
        """What Run does with a mask: "inpaint", "refine", "remove_object" or "add_detail"."""
        return self.mask_operation.currentData()

    def refine_strength(self) -> float:
        return self.strength.value() / 100.0

    def _operation_changed(self, _index: int = 0) -> None:
        uses_strength = self.operation() in STRENGTH_OPERATIONS
        self.strength.setEnabled(uses_strength)
        self.strength_label.setEnabled(uses_strength)

    def _update_scale_note(self, *_args) -> None:
        """Say what a scale means: the cell size and how much the model's output is enlarged."""
        s, f = self.scale.value(), self._factor
        grid = f"Scale {s}: a cell is {f * s} px; the model's output is enlarged {s}×."
        if self.fit_window.isChecked():
            context = self.context.value()
            if context < 0:
                context = default_context(self._grid)
            grid = (
                f"The brush grid: {f * s} px cells (scale {s}). Each edit is decoded at the "
                f"smallest scale that holds it and {context} cells around it (scale 1: "
                f"{f} px cells, not enlarged)."
            )
        self.scale_note.setText(grid)

    def feather_px(self) -> int | None:
        return None if self.feather.value() < 0 else self.feather.value()

    def current_class(self) -> int | None:
        return self.class_picker.current_class()


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


def _dspin(lo: float, hi: float, value: float, step: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setSingleStep(step)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
