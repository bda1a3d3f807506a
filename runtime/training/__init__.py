"""Training: the loop of jit-compiled chunks of steps (`loop`), one step for every optimizer
(`step`), points that move on the device (`points`), term weighting (`weighting`), and
`TrainResult` (`result`)."""
from .loop import train
from .result import TrainResult

__all__ = ["train", "TrainResult"]
