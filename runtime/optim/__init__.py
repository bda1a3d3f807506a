"""Optimizers in optax's style (ENGD, SSBroyden) and `registry`, the one table from an
optimizer's name to how the training step runs it."""
from .registry import KEYWORDS, OPTIMIZERS, Optimizer, engd_form, optimizer, registered

__all__ = ["OPTIMIZERS", "Optimizer", "KEYWORDS", "optimizer", "registered", "engd_form"]
