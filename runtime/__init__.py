"""What generated code, the API and the command line run, in layers that each import only the
ones listed before them: kernels, geometry, model, optim, runs, training."""
