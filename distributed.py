"""Training over several processes (hosts) from Python: call `initialize` first, in every
process, then train as on one (docs/guide/devices.md).

    import pinnc
    pinnc.distributed.initialize()            # a cluster job JAX detects (SLURM, Open MPI, ...)
    pinnc.distributed.initialize("node1:1234", num_processes=2, process_id=0)   # or named
    result = pinnc.compile_file("poisson.pde").train()   # the same result in every process
"""
from .runtime.training.processes import JoinError, initialize, writes

__all__ = ["initialize", "writes", "JoinError"]
