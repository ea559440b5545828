"""`tf.train`: optimizers, learning-rate schedules, moving averages, Saver and checkpoint state."""

# ruff: noqa: F401, I001 - this module re-exports the public tf.train API (grouped by layer, not sorted)

from tfcore.train import training_fast, training_ops  # noqa: F401 - training_fast: a fast ApplyAdam
from tfcore.train.learning_rate_decay import (
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)
from tfcore.train.moving_averages import ExponentialMovingAverage
from tfcore.train.optimizers import (
    AdagradOptimizer,
    AdamOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    Optimizer,
    RMSPropOptimizer,
)
from tfcore.train.training_util import (
    assert_global_step,
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

# Saving (owned by the checkpoint layer: saver.py, checkpoint_io.py, checkpoint_state.py)
from tfcore.train.checkpoint_state import (
    generate_checkpoint_state as generate_checkpoint_state_proto,
    get_checkpoint_state,
    latest_checkpoint,
    update_checkpoint_state,
)
from tfcore.train.saver import Saver, checkpoint_exists, list_variables, load_variable
from tfcore.train.meta_graph import MetaGraphDef, export_meta_graph, import_meta_graph
from tfcore.framework.graph_def import write_graph
