"""What generated code and the command line use: geometry, networks, training, run folders."""
