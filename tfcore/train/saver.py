"""`tf.train.Saver`: save variables to checkpoints and restore them, as TF1 does.

Checkpoint keys are variable op names ("layer1/weights"); a dict `var_list` chooses other keys
(the moving-average evaluation maps "layer1/weights/ExponentialMovingAverage" to the live
variable). `save(sess, path, global_step=step)` writes `path-<step>.index`,
`path-<step>.data-00000-of-00001` and `path-<step>.meta`, then updates the `checkpoint` state
file; checkpoints beyond `max_to_keep` are deleted. The bytes are written atomically by
`checkpoint_io` (see its docstring for the format).
"""

import os
import time

import numpy as np

from tfcore.framework import errors
from tfcore.framework.graph import Tensor, get_default_graph
from tfcore.ops.control_flow_ops import group
from tfcore.ops.placeholder_ops import placeholder
from tfcore.ops.variables import Variable, assign, global_variables
from tfcore.train import checkpoint_io, checkpoint_state, meta_graph_def


def _saveables(var_list):
    """name -> Variable, from a list (keys are op names) or a dict (keys given)."""
    if var_list is None:
        var_list = global_variables()
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = []
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"Saver var_list entries must be Variables, got {v!r}")
            items.append((v.op.name, v))
    mapping = {}
    for name, v in items:
        if not isinstance(v, Variable | Tensor):
            raise TypeError(f"Variable to save is not a Variable: {v!r}")
        if name in mapping:
            raise ValueError(f"At least two variables have the same name: {name}")
        mapping[name] = v
    return mapping


class Saver:
    """Saves and restores variables (`saver.save(sess, path, global_step=...)`, `saver.restore`)."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False, write_version=2,
                 pad_step_number=False, save_relative_paths=False, filename=None):
        self._vars = _saveables(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._keep_every_seconds = keep_checkpoint_every_n_hours * 3600
        self._next_keep_time = time.time() + self._keep_every_seconds
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._last_checkpoints = []  # [(path, time)], oldest first
        graph = get_default_graph()
        self._graph = graph
        # Restoring feeds each stored value into its variable through one Assign per variable.
        self._feeds = {}
        assigns = []
        with graph.name_scope(name or "save"):
            for key, var in self._vars.items():
                if isinstance(var, Variable):
                    value = placeholder(var.dtype.base_dtype, var.get_shape(), name="restore_value")
                    self._feeds[key] = value
                    assigns.append(assign(var, value, name="Assign").op)
            self._restore_op = group(*assigns, name="restore_all") if assigns else None

    # --- saving ---------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False, save_debug_info=False):
        """Write a checkpoint of the variables' values in `sess`; returns its path prefix."""
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):  # TF raises ValueError here, with these words
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if global_step is not None:
            step = global_step
            if not isinstance(step, int | np.integer):
                step = sess.run(step)
            step = f"{int(step):08d}" if self._pad_step_number else str(int(step))
            save_path = f"{save_path}-{step}"
        names = list(self._vars)
        values = sess.run([self._vars[n] for n in names]) if names else []
        checkpoint_io.write_checkpoint(save_path, dict(zip(names, values)))
        if write_meta_graph:
            self.export_meta_graph(f"{save_path}.{meta_graph_suffix}")
        if write_state:
            self._record(save_path)
            checkpoint_state.update_checkpoint_state(
                save_dir or ".", save_path, [p for p, _ in self._last_checkpoints],
                latest_filename=latest_filename, save_relative_paths=self._save_relative_paths)
        return save_path

    def _record(self, path):
        """Add `path` to the kept checkpoints; delete the oldest beyond max_to_keep (TF's rule)."""
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        if not self._max_to_keep:
            self._last_checkpoints = self._last_checkpoints[-1:]
            return
        while len(self._last_checkpoints) > self._max_to_keep:
            old, saved_at = self._last_checkpoints.pop(0)
            if saved_at > self._next_keep_time:  # kept forever: one every n hours
                self._next_keep_time += self._keep_every_seconds
                continue
            checkpoint_io.remove_checkpoint(old)

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False, **kwargs):
        """Write the graph, its collections and this saver as a MetaGraphDef (meta_graph_def.py)."""
        return meta_graph_def.export_meta_graph(filename, collection_list=collection_list, as_text=as_text,
                                                graph=self._graph, saver_def=self.as_saver_def(), **kwargs)

    def as_saver_def(self):
        """What import_meta_graph needs to rebuild this saver: checkpoint key -> variable name."""
        return {"variables": {key: var.name for key, var in self._vars.items()},
                "max_to_keep": self._max_to_keep,
                "keep_checkpoint_every_n_hours": self._keep_every_seconds / 3600}

    # --- restoring ------------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Load every saved variable's value from checkpoint `save_path` into `sess`."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not checkpoint_io.checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        stored = checkpoint_io.list_checkpoint(save_path)
        missing = [k for k in self._feeds if k not in stored]
        if missing:
            raise errors.NotFoundError(None, None, f"Key {missing[0]} not found in checkpoint {save_path}")
        values = checkpoint_io.read_checkpoint(save_path, names=list(self._feeds))
        feed = {}
        for key, ph in self._feeds.items():
            value = values[key]
            var = self._vars[key]
            if not var.get_shape().is_compatible_with(value.shape):
                raise errors.InvalidArgumentError(
                    None, None, f"Restoring {key} from {save_path}: the checkpoint holds shape "
                    f"{list(value.shape)} but the variable {var.op.name} has shape {var.get_shape()}")
            feed[ph] = value
        if self._restore_op is not None:
            sess.run(self._restore_op, feed_dict=feed)

    # --- bookkeeping ----------------------------------------------------------------------------
    @property
    def last_checkpoints(self):
        """The kept checkpoint paths, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        self._last_checkpoints = [(p, time.time()) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """Resume managing checkpoints written earlier (those that still exist)."""
        self.set_last_checkpoints([p for p in checkpoint_paths if checkpoint_io.checkpoint_exists(p)])

    def build(self):
        """Accepted for compatibility: the saver is built in the constructor."""


def checkpoint_exists(checkpoint_prefix):
    """Whether a checkpoint with this prefix has been written."""
    return checkpoint_io.checkpoint_exists(checkpoint_prefix)


def _resolve(ckpt_dir_or_file):
    if os.path.isdir(ckpt_dir_or_file):
        path = checkpoint_state.latest_checkpoint(ckpt_dir_or_file)
        if path is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                             f"{ckpt_dir_or_file}")
        return path
    return ckpt_dir_or_file


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of the tensors in a checkpoint (or the newest one in a directory)."""
    entries = checkpoint_io.list_checkpoint(_resolve(ckpt_dir_or_file))
    return [(name, list(shape)) for name, (_, shape) in entries.items()]


def load_variable(ckpt_dir_or_file, name):
    """The stored value of tensor `name` (a trailing ":0" is ignored)."""
    name = name[:-2] if name.endswith(":0") else name
    return checkpoint_io.read_checkpoint(_resolve(ckpt_dir_or_file), names=[name])[name]
