"""Pure JAX that generated modules call: Taylor-mode derivatives and the forward Laplacian.

The bottom layer of the runtime: it imports only JAX (and its own modules), so a generated
module that imports it pulls in nothing else of pinnc.
"""
