"""The functions `Dataset.map` and `Dataset.filter` take, traced once into a graph of their own.

TF1 code passes `map` a Python function that builds ops (``lambda x, y: (tf.cast(x, tf.float32) /
255.0, y)``). As TensorFlow does, the function is called once, when the dataset is built: its
arguments are placeholders with the static shapes and dtypes of the element's components (named
``args_0``, ``args_1``, ... as TF names them), and what it returns becomes the element of the new
dataset. The ops it builds go into a graph of its own (TF's function graph), so they take no names
from the program's graph; the graph inherits the program's random seed, as TF's does.

The dataset op names the function by its attribute `f`, a string, as TF's function library does:
the program's graph keeps its traced functions in a library of their own here (`function_named`),
so a graph with datasets can still be written down as a GraphDef (a Saver's meta graph).

Running the function on an element is a run of that graph: `instantiate` compiles a `Plan` for it
(fetches: the outputs; feeds: the arguments) and each element is one `Plan.execute`, by the same
engine that runs sessions, never by calling the Python function again. Each instance has its own
`SessionState`, so random ops inside the function draw a new sequence for each iterator
initialization.

NOTE: tfcore does not capture tensors of the program's graph inside the function (TF turns them
into extra inputs of the function). Using one is an error at build time that says so; build the
values inside the function, or pass them as Python or NumPy values.
"""

import itertools
import re
import weakref

from tfcore.client.plan import Plan
from tfcore.client.session_state import SessionState
from tfcore.data import structure
from tfcore.framework import errors
from tfcore.framework.graph import Graph
from tfcore.ops.placeholder_ops import placeholder


class TracedFunction:
    """A Python function over dataset elements, traced into a graph: `output_specs` describe what it
    returns, `instantiate()` gives something that runs it on one flat element.

    `what` names the caller in error messages ("Dataset.map()"); `outer` is the program's graph, whose
    library gets the function under `name`.
    """

    def __init__(self, func, input_specs, what, outer):
        if not callable(func):
            raise TypeError(f"{what}: expected a function, got {func!r} ({type(func).__name__})")
        self.what = what
        self.graph = Graph()
        self.graph.seed = outer.seed
        with self.graph.as_default():
            self.inputs = [placeholder(spec.dtype, spec.shape, name=f"args_{i}")
                           for i, spec in enumerate(structure.flatten(input_specs))]
            args = structure.pack(input_specs, self.inputs)
            result = self._call(func, args)
            if isinstance(result, list):  # TF reads a returned list as a tuple of components
                result = tuple(result)
            if result is None:
                raise ValueError(f"{what}: the function returned None; it must return a tensor or a "
                                "tuple or dict of tensors")
            outputs = structure.to_tensors(result, f"{what}: the function's return value")
        self.outputs = structure.flatten(outputs)
        for t in self.outputs:
            if t.graph is not self.graph:
                raise ValueError(f"{what}: the function returned {t.name}, a tensor built outside it. "
                                 f"{_NO_CAPTURE}")
        self.output_structure = outputs
        self.output_specs = structure.specs_of(outputs)
        self.graph.finalize()
        self.name = f"__inference_{re.sub(r'[^A-Za-z]+', '_', what).strip('_')}_{next(_COUNTER)}"
        _LIBRARIES.setdefault(outer, {})[self.name] = self

    def _call(self, func, args):
        """`func` on the arguments: a tuple element is spread over the parameters, as in TF."""
        try:
            return func(*args) if type(args) is tuple else func(args)
        except ValueError as e:
            if "different graphs" in str(e):
                raise ValueError(f"{self.what}: the function uses a tensor built outside it ({e}). "
                                 f"{_NO_CAPTURE}") from None
            raise

    def instantiate(self):
        """A function from one flat element (a list of arrays, one per argument) to the list of the
        output arrays, running the traced graph through a plan compiled here, once."""
        plan = Plan(self.graph, self.outputs, self.inputs, state=SessionState())
        return lambda element: plan.execute(list(element))

    def __repr__(self):
        return f"<TracedFunction for {self.what}: {len(self.inputs)} argument(s) -> {self.output_specs}>"


_NO_CAPTURE = ("tfcore traces the function into a graph of its own and cannot capture tensors or variables "
               "of the program's graph: build them inside the function, or pass Python or NumPy values.")


_COUNTER = itertools.count(1)
_LIBRARIES = weakref.WeakKeyDictionary()  # program graph -> {function name: TracedFunction}


def function_named(graph, name):
    """The function traced for `graph` under `name` (the `f` attribute of a dataset op)."""
    try:
        return _LIBRARIES[graph][name]
    except KeyError:
        raise errors.NotFoundError(
            None, None, f"Function {name} is not defined in this graph's library (a dataset op imported "
            "from a GraphDef lost its traced function).") from None
