"""The graph layer: Graph, Operation, Tensor, dtypes, shapes, the op registry and errors."""
