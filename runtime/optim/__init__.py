"""Optimizers in optax's style (ENGD, SSBroyden) and `optimizer(phase)`, the one place that
turns a phase of the ``optimizer`` option into a transformation."""
from .phases import CHUNK_STEPS, engd_form, optimizer

__all__ = ["optimizer", "engd_form", "CHUNK_STEPS"]
