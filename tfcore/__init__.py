"""tfcore: a TensorFlow-1-style dataflow-graph engine written to be read.

`import tfcore as tf` runs classic TF1 graph-mode code: build a graph of ops, then run parts of it
in a Session. The layers, from the bottom up:

    framework/  Graph, Operation, Tensor, dtypes, shapes, the op registry, errors
    ops/        the ops, one file per family; each op is one block (wrapper, shape, kernel, gradient)
    client/     Session: compiles a plan per run signature and executes it
    train/      optimizers, schedules, moving averages, Saver and checkpoints
    summary/    summaries and TensorBoard event files
"""

# ruff: noqa: F401, F403, I001 - this module re-exports the public API, in dependency order

import sys as _sys
import types as _types

from tfcore.framework import dtypes as _dtypes_module
from tfcore.framework import errors
from tfcore.framework.dtypes import (DType, as_dtype, bool, double, float16, float32, float64, half, int8,
                                     int16, int32, int64, string, uint8)
from tfcore.framework.graph import (Graph, GraphKeys, Operation, Tensor, convert_to_tensor,
                                    get_default_graph, get_default_session, is_tensor,
                                    register_tensor_conversion_function, reset_default_graph)
from tfcore.framework.indexed_slices import IndexedSlices, IndexedSlicesValue
from tfcore.framework.registry import NotDifferentiable, RegisterGradient, no_gradient
from tfcore.framework.tensor_shape import Dimension, TensorShape

from tfcore.ops.constant_op import *
from tfcore.ops.placeholder_ops import *
from tfcore.ops.array_ops import *
from tfcore.ops.dimension_ops import *
from tfcore.ops.slicing_ops import *
from tfcore.ops.gather_ops import *
from tfcore.ops.join_ops import *
from tfcore.ops.pad_ops import *
from tfcore.ops.math_ops import *
from tfcore.ops.comparison_ops import *
from tfcore.ops.elementwise_ops import *
from tfcore.ops.binary_ops import *
from tfcore.ops.argmax_ops import *
from tfcore.ops.cumulative_ops import *
from tfcore.ops.reduction_ops import *
from tfcore.ops.clip_ops import *
from tfcore.ops.index_ops import *
from tfcore.ops.tensor_operators import *
from tfcore.ops.random_ops import *
from tfcore.ops.init_ops import *
from tfcore.ops.check_numerics_ops import *
from tfcore.ops.variables import *
from tfcore.ops.scatter_ops import *
from tfcore.ops.control_flow_ops import *
from tfcore.ops.gradients_impl import *
from tfcore.ops.scopes import *

from tfcore.client.session import (ConfigProto, GPUOptions, InteractiveSession, RunMetadata, RunOptions,
                                   Session)

from tfcore import contrib, initializers, losses, nn, random, train
from tfcore import data
from tfcore import layers
from tfcore import image
from tfcore import datasets, io
from tfcore.graph_util import GraphDef, NodeDef, import_graph_def  # also binds tf.graph_util
from tfcore.platform import app, flags, gfile
from tfcore.platform import tf_logging as logging
from tfcore import summary

# `tf.compat.v1`: tfcore *is* the TF1 API, so `tf.compat.v1` is tfcore itself.
compat = _types.ModuleType("tfcore.compat", "tf.compat: `compat.v1` is tfcore itself.")
compat.v1 = _sys.modules[__name__]
_sys.modules[compat.__name__] = compat

Summary = summary.Summary  # tf.Summary, for summaries built in Python (TF1 has it at top level)

dtypes = _dtypes_module
AUTO_REUSE = "AUTO_REUSE"
__version__ = "0.1.0"


def disable_v2_behavior():
    """Accepted for compatibility: tfcore is always TF1 graph mode."""


def disable_eager_execution():
    """Accepted for compatibility: tfcore never runs eagerly."""


def executing_eagerly():
    return False

