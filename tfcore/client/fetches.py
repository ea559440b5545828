"""Fetch mapping: `sess.run` accepts one item, a list, a tuple, a dict or nested mixes of them
(an IndexedSlices is fetched as an IndexedSlicesValue of its values, indices and dense shape).

The fetch structure is flattened into a de-duplicated list of graph elements, the plan computes
them, and the results are put back into the caller's structure (ops come back as None).
"""

from tfcore.framework.graph import Operation, Tensor
from tfcore.framework.indexed_slices import IndexedSlices, IndexedSlicesValue


class FetchMapper:
    """Flattens a nested fetch structure and rebuilds it from the fetched values."""

    def __init__(self, graph, fetches):
        self.unique = []          # graph elements, each once
        self._index = {}          # element -> position in self.unique
        self._structure = self._flatten(graph, fetches)

    def _add(self, element):
        if element not in self._index:
            self._index[element] = len(self.unique)
            self.unique.append(element)
        return ("leaf", self._index[element])

    def _flatten(self, graph, fetch):
        if fetch is None:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}")
        if isinstance(fetch, dict):
            return ("dict", type(fetch), [(k, self._flatten(graph, v)) for k, v in fetch.items()])
        if isinstance(fetch, tuple) and hasattr(fetch, "_fields"):
            return ("namedtuple", type(fetch), [self._flatten(graph, v) for v in fetch])
        if isinstance(fetch, list | tuple):
            return (type(fetch).__name__, None, [self._flatten(graph, v) for v in fetch])
        if isinstance(fetch, IndexedSlices):  # fetched as an IndexedSlicesValue of its three tensors
            parts = (fetch.values, fetch.indices, fetch.dense_shape)
            return ("namedtuple", IndexedSlicesValue,
                    [("none", None, None) if p is None else self._flatten(graph, p) for p in parts])
        if not (isinstance(fetch, Tensor | Operation | str) or hasattr(fetch, "_as_graph_element")):
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a string "
                            "or Tensor. (Can not convert a {0} into a Tensor or Operation.)".format(
                                type(fetch).__name__))
        try:
            element = graph.as_graph_element(fetch)
        except (ValueError, KeyError) as e:
            raise type(e)(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e})") from None
        return self._add(element)

    def build(self, values):
        """Rebuild the caller's structure from `values` (aligned with `self.unique`)."""
        return self._build(self._structure, values)

    def _build(self, node, values):
        kind, cls, children = node if node[0] != "leaf" else (node[0], None, node[1])
        if kind == "leaf":
            return values[children]
        if kind == "none":
            return None
        if kind == "dict":
            return cls((k, self._build(v, values)) for k, v in children)
        if kind == "namedtuple":
            return cls(*[self._build(c, values) for c in children])
        items = [self._build(c, values) for c in children]
        return items if kind == "list" else tuple(items)
