"""Live metrics: the loss and each term written as TensorBoard event files (``DIR/events``)
after every chunk of steps, for TensorBoard or a notebook (``tbparse``) to read during training.
"""
from __future__ import annotations

import shutil
from pathlib import Path

EVENTS = "events"


class EventLog:
    """The run folder's event log. ``fresh``: a new run, whose previous events are removed; a
    resumed run adds to them."""

    def __init__(self, folder: Path, fresh: bool):
        # imported here: it takes most of a second, paid only by runs with a folder
        from tensorboardX import SummaryWriter

        directory = Path(folder) / EVENTS
        if fresh and directory.is_dir():
            shutil.rmtree(directory)
        self._writer = SummaryWriter(logdir=str(directory), flush_secs=3600)

    def add(self, history, start: int) -> None:
        """The history's rows from ``start`` on: ``loss`` and ``term/<label>`` per step."""
        rows = history.rows
        for i in range(start, len(rows["step"])):
            step = rows["step"][i]
            self._writer.add_scalar("loss", rows["loss"][i], step)
            for label in history.labels:
                self._writer.add_scalar(f"term/{label}", rows[label][i], step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
