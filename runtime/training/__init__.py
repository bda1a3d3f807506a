"""Training: the loop of jit-compiled chunks of steps (`loop`), points that move on the device
(`points`), and `TrainResult`."""
from .loop import TrainResult, train

__all__ = ["train", "TrainResult"]
