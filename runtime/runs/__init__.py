"""Files on disk: the run folder, checkpoints, plots, and JAX's compilation cache. Every
function takes plain values (a problem, params, metrics, history), never a training result."""
from .cache import use_compilation_cache
from .checkpoints import CHECKPOINT
from .folder import SavedRun, load_problem, read_run, save_run, writing

__all__ = ["writing", "save_run", "read_run", "load_problem", "SavedRun", "CHECKPOINT",
           "use_compilation_cache"]
