"""The runtime's way to the reading of regular files (run folders): the compiler's `sources`."""
from .sources import UnreadableFile, read_regular_file, shown_path

__all__ = ["UnreadableFile", "read_regular_file", "shown_path"]
