"""The main window: canvas in the middle, parameters on the right, steps at the bottom.

It binds the editor's Document to the view and routes commands; the work is done by the
Canvas and tools (input), RunController (generation), FileController (files) and the panels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow

from maskgit_studio.editor import Document, EditRequest, Growth, plan_request
from maskgit_studio.engine.results import ModelInfo

from . import dialogs
from .actions import build_actions, build_menus, build_toolbar, enable_actions
from .box_commands import BoxCommands
from .branch_dialog import BranchChoice, choose_branch
from .canvas import Canvas
from .class_picker import pick_class
from .compare_key import CompareKey
from .files import FileController
from .help import HelpDesk
from .history import RunHistory
from .history_panel import HistoryPanel
from .live import LiveRun
from .models import ModelController
from .params_panel import ParamsPanel
from .runner import RunController
from .status import StatusBar
from .step_viewer import StepViewer
from .tools import BoxTool, BrushSize, BrushTool, EraserTool, OutpaintTool
from .window_layout import (
    build_docks,
    restore_layout,
    save_layout,
)

log = logging.getLogger(__name__)

FALLBACK_FACTOR = 16  # grid used before a model is loaded (or when none can be)


class MainWindow(QMainWindow):
    """The studio window.

    Args:
        session: an engine ``EngineSession`` (the model loads in the worker on ``start``).
        settings: where recent files live (tests pass their own).
        autosave_dir: the autosave folder (default: the platform state dir).
    """

    def __init__(
        self, session: Any, settings: QSettings | None = None, autosave_dir: Path | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.info: ModelInfo | None = None
        self.doc: Document | None = None
        self.error_hook: Callable[[str, str], None] | None = None  # tests capture dialogs
        self.ask_hook: Callable[[str, str], str] | None = None
        self._queued_open: str | None = None
        self.setWindowTitle("maskgit-studio")
        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.params = ParamsPanel()
        self.viewer = StepViewer()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.controller = RunController(session, self)
        self.models = ModelController(
            session, self.params, self.controller.call, self.show_message, self
        )
        self.live = LiveRun(self.controller, self.canvas, self.viewer, self.status)
        self.live.class_label = self._class_label
        self.history_panel = HistoryPanel()
        self.history = RunHistory(
            self.history_panel, self.viewer, self.controller, self.live, self.show_message, self
        )
        self.settings = settings = settings or QSettings("maskgit-studio", "studio")
        self.files = FileController(self, settings, autosave_dir, self)
        self.help = HelpDesk(self, self.canvas, settings, lambda: self.actions_)
        self.brush_size = BrushSize(2)
        self.tools = {
            "brush": BrushTool(self.canvas, self.brush_size),
            "eraser": EraserTool(self.canvas, self.brush_size),
            "box": BoxTool(self.canvas, self.params.current_class),
            "outpaint": OutpaintTool(self.canvas),
        }
        self.box_tool: BoxTool = self.tools["box"]  # type: ignore[assignment]
        self.canvas.class_label = self._class_label
        self.canvas.selected_box = lambda: self.box_tool.selected
        self.canvas.box_draft = lambda: self.box_tool.draft
        self.canvas.feather_radius = self._feather_radius
        self._feather: tuple[int, int] = (0, 0)  # (scale, px) of the model last asked
        self.boxes = BoxCommands(
            self.box_tool, self.params, lambda: self.doc, self.ask_class, self.update_actions, self
        )
        a = self.actions_ = build_actions(self, self._slots(), self.tools.values(), self.set_tool)
        self.recent_menu, self.docks_menu = build_menus(self.menuBar(), a)
        toolbar = build_toolbar(a, self.brush_size, self.canvas.set_mask_opacity)
        self.addToolBar(toolbar.bar)
        self.size_spin, self.opacity_slider = toolbar.size_spin, toolbar.opacity_slider
        self.docks = build_docks(
            self, self.params, self.viewer, self.history_panel, self.docks_menu
        )
        restore_layout(self, settings)  # the last session's size and panels, or fit the screen
        CompareKey(self, self.canvas.set_compare)  # hold Tab anywhere: compare
        self._connect()
        self.set_tool("brush")
        self.files.fill_recent_menu(self.recent_menu)
        self.update_actions()

    def _slots(self) -> dict[str, Callable[..., Any]]:
        """What each action of ``actions.ACTIONS`` does."""
        files, canvas, size, doc = self.files, self.canvas, self.brush_size, lambda: self.doc
        return {
            "new": self.new_blank, "open": files.open_dialog, "save": files.save,
            "save_as": files.save_as, "export": files.export_image, "quit": self.close,
            "import_mask": files.import_mask, "export_mask": files.export_mask,
            "undo": self.undo, "redo": self.redo,
            "clear_mask": lambda: doc() and doc().clear_mask(),
            "invert_mask": lambda: doc() and doc().invert_mask(),
            "grow_mask": lambda: doc() and doc().grow_mask(),
            "delete_box": self.boxes.delete, "box_class": self.boxes.choose_class,
            "reset_growth": self.reset_growth, "grid": canvas.set_grid_visible,
            "zoom_in": lambda: canvas.set_zoom(canvas.zoom * 1.25),
            "zoom_out": lambda: canvas.set_zoom(canvas.zoom / 1.25),
            "fit": canvas.fit, "actual": lambda: canvas.set_zoom(1.0),
            "run": self.run_current, "generate": self.generate_class, "escape": self.escape,
            "accept": self.accept, "prev": lambda: self.browse(-1), "next": lambda: self.browse(1),
            "smaller": lambda: size.step(-1), "bigger": lambda: size.step(1),
            "shortcuts": self.help.show_shortcuts, "welcome": self.help.hint_again,
        }  # fmt: skip

    def _connect(self) -> None:
        c, p = self.controller, self.params
        c.busy_changed.connect(self._busy_changed)
        c.message.connect(self.show_message)
        c.error.connect(self.report_error)
        self.canvas.cursor_moved.connect(lambda pos: self.status.set_cursor(pos, self.doc))
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.canvas.files_dropped.connect(lambda paths: self.open_path(paths[0]))
        self.files.recent_changed.connect(
            lambda paths: self.files.fill_recent_menu(self.recent_menu)
        )
        self.models.loaded.connect(self._model_loaded)
        p.scale_changed.connect(lambda s: self.doc and self.doc.set_grid(scale=s))
        p.feather.valueChanged.connect(lambda _v: self.canvas.refresh_feather())
        self.viewer.branch_requested.connect(self.branch)
        self.viewer.export_requested.connect(
            lambda kind: self.files.export_steps(kind, self.viewer)
        )

    # -- start-up, models, documents -------------------------------------------------------
    def start(self, path: str | None = None) -> None:
        """Offer crash recovery, then load the model in the worker and open ``path``."""
        recovered = self.files.offer_recovery()
        self._queued_open = None if recovered else path
        self.help.first_start()
        self.models.start()

    def load_model(self, model: str) -> None:
        self.models.load(model)

    def _model_loaded(self, info: ModelInfo) -> None:
        self.info, self._feather = info, (0, 0)
        if self._queued_open is not None:
            path, self._queued_open = self._queued_open, None
            self.open_path(path)
        if self.doc is None or (self.doc.is_blank and not self.doc.modified):
            self.set_document(Document.blank(info.image_size, info.downsample_factor))
        elif self.doc.factor != info.downsample_factor:
            self.doc.set_grid(factor=info.downsample_factor)
        self.history.refresh()  # class names come with the model
        self.canvas.refresh_feather()
        self.update_actions()

    def new_document(self, image: np.ndarray) -> Document:
        """A document for a freshly opened image, at the model's default working scale."""
        height, width = image.shape[:2]
        if self.info is None:
            return Document(image, FALLBACK_FACTOR)
        return Document(
            image, self.info.downsample_factor, self.session.default_scale(width, height)
        )

    def new_blank(self) -> None:
        if self.files.maybe_save_changes():
            size = self.info.image_size if self.info else 256
            self.set_document(
                Document.blank(size, self.info.downsample_factor if self.info else FALLBACK_FACTOR)
            )

    def open_path(self, path: str) -> bool:
        if self.info is None and self.controller.busy:
            self._queued_open = path  # the model is still loading
            return False
        if self.controller.running:
            self.show_message("A run is going: wait for it, or press Esc, then open the file.")
            return False
        return self.files.open_path(path)

    def set_document(self, doc: Document) -> None:
        if self.doc is not None:
            self.doc.unsubscribe(self._doc_changed)
        if doc is not self.doc:
            self.controller.view = None  # the last run belongs to the document that goes
        self.doc = doc
        self.controller.doc = doc
        self.box_tool.select(None)
        self.canvas.set_document(doc)
        self.history.set_document(doc)
        doc.subscribe(self._doc_changed)
        self.files.watch(doc)
        self.params.set_scale(doc.scale)
        self.update_title()
        self.update_actions()

    def _doc_changed(self, aspects: set[str]) -> None:
        if "boxes" in aspects:
            self.boxes.forget_gone()
        if aspects & {"history", "pending", "runs"}:
            self.update_title()
            self.update_actions()
        if "grid" in aspects and self.doc is not None:
            self.params.set_scale(self.doc.scale)

    # -- commands --------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(self.tools[name])
        self.actions_.tool[name].setChecked(True)
        self.update_actions()

    def undo(self) -> None:
        if self.doc is not None and not self.controller.busy:
            self.box_tool.select(None)
            self.doc.undo()

    def redo(self) -> None:
        if self.doc is not None and not self.controller.busy:
            self.box_tool.select(None)
            self.doc.redo()

    def current_request(self) -> EditRequest | None:
        return plan_request(self.doc, self.box_tool.selected) if self.doc is not None else None

    def run_current(self) -> bool:
        request = self.current_request()
        if request is None or self.controller.busy:
            return False
        if self.info is None:
            self.show_message("No model is loaded: pick one in the Model box.")
            return False
        if request.kind == "generate" and not self._may_replace():
            return False
        return self.controller.run(request, self.params)

    def _may_replace(self) -> bool:
        """A generation replaces the whole canvas: ask first, unless it is blank."""
        doc = self.doc
        if doc is None or doc.is_blank:
            return True
        return self.ask("replace_canvas", self.windowTitle().split(" — ")[0]) == "replace"

    def generate_class(self) -> bool:
        if self.info is None or self.controller.busy or self.doc is None:
            return False
        accepted, class_id = self.ask_class(self.params.current_class())
        if not accepted or not self._may_replace():
            return False
        self.params.class_picker.set_class(class_id)
        request = EditRequest("generate", None, f"Generate {self._class_label(class_id)}")
        return self.controller.run(request, self.params)

    def ask_class(self, current: int | None) -> tuple[bool, int | None]:
        if self.ask_hook is not None:
            answer = self.ask_hook("class", str(current))
            return answer != "cancel", None if answer == "none" else int(answer)
        assert self.info is not None
        return pick_class(self, self.info.class_names, self.info.supports_guidance, current)

    def escape(self) -> None:
        """Esc: cancel a run; else discard candidates; else drop a drag / the box selection."""
        if self.controller.cancel():
            return
        if self.doc is not None and self.doc.pending is not None:
            self.doc.discard_pending()
            self.show_message("Variations discarded.")
            return
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.box_tool.select(None)

    def accept(self) -> None:
        if not self.controller.busy and self.controller.accept():
            self.show_message("Accepted. Ctrl+Z undoes it.")

    def browse(self, step: int) -> None:
        if self.doc is not None and self.doc.pending is not None:
            self.doc.browse_pending(step)
            pending = self.doc.pending
            self.show_message(
                f"Variation {pending.index + 1} of {pending.count}: Enter accepts, Esc discards."
            )

    def reset_growth(self) -> None:
        if self.doc is not None:
            self.doc.set_growth(Growth())

    def _feather_radius(self) -> int:
        """Px the next edit blends around its region: the panel's, or the model's own."""
        chosen = self.params.feather_px()
        if chosen is not None or self.doc is None or self.info is None:
            return chosen or 0
        if self._feather[0] != self.doc.scale and not self.controller.busy:
            self._feather = (self.doc.scale, self.session.feather_px(self.doc.scale))
        return self._feather[1]

    def _class_label(self, class_id: int | None) -> str:
        if class_id is None:
            return "unconditional"
        names = self.info.class_names if self.info else ()
        return names[class_id] if 0 <= class_id < len(names) else f"class {class_id}"

    # -- runs ------------------------------------------------------------------------------
    def branch(self, step_pos: int, variation: int) -> bool:
        """Branch the latest run from its step ``step_pos`` with a new seed/temperature/class."""
        if self.info is None or self.controller.busy:
            return False
        sampler = self.params.sampler(new_seed=False)
        current = BranchChoice(
            self.params.current_class(), sampler.seed, sampler.choice_temperature
        )
        info = self.info
        choice = choose_branch(
            self, step_pos, current, info.class_names, info.supports_guidance, self.ask_hook
        )
        if choice is None:
            return False
        sampler = sampler.replace(seed=choice.seed, choice_temperature=choice.temperature)
        return self.controller.branch(step_pos, variation, choice.class_id, sampler)

    def _busy_changed(self, busy: bool) -> None:
        self.update_actions()

    # -- feedback --------------------------------------------------------------------------
    def report_error(self, exc: BaseException, action: str) -> None:
        if self.error_hook is not None:
            self.error_hook(*dialogs.describe_error(exc, action))
        else:
            dialogs.show_error(self, exc, action)

    def ask(self, kind: str, text: str) -> str:
        if self.ask_hook is not None:
            return self.ask_hook(kind, text)
        if kind == "recover":
            return dialogs.ask_recover(self, text)
        if kind == "replace_canvas":
            return dialogs.ask_replace_canvas(self, text)
        return dialogs.ask_save_changes(self, text)

    def show_message(self, text: str) -> None:
        self.status.show_text(text)

    def update_title(self) -> None:
        doc = self.doc
        name = "untitled"
        if doc is not None and doc.path is not None:
            name = doc.path.name
        elif doc is not None and doc.source is not None:
            name = doc.source.name
        modified = "*" if doc is not None and doc.modified and not doc.is_blank else ""
        self.setWindowTitle(f"{name}{modified} — maskgit-studio")

    def update_actions(self) -> None:
        doc, busy = self.doc, self.controller.busy
        selected = self.box_tool.selected is not None
        enable_actions(self.actions_, doc, busy, self.info is not None, selected)
        self.params.setEnabled(not busy)
        request = self.current_request()
        if busy:
            hint = "Esc: cancel"
        elif doc is not None and doc.pending is not None:
            hint = "Enter: accept · ←/→: browse · Esc: discard"
        else:
            hint = f"Ctrl+Enter: {request.summary}" if request else ""
        self.status.set_request(hint)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.controller.shutdown()
        if not self.files.maybe_save_changes():
            event.ignore()
            return
        save_layout(self, self.settings)
        self.files.close()
        event.accept()
