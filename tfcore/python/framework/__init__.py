"""`tfcore.python.framework`: TF's module path for `graph_util`."""
