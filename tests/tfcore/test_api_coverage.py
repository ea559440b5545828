"""Tier 1 of shared/docs/TF1_API.md: every name classic course code uses exists in tfcore.

The list below is that page's tier 1, name by name (attributes of objects are checked on an
instance where they belong to a class). Where TensorFlow is installed, each name is also checked
to exist in `tensorflow.compat.v1`, so the list itself stays honest.
"""

import pytest

import tfcore
from tests.tfcore.harness import reference_tf

TIER1 = """
Graph Graph.as_default Graph.get_operation_by_name Graph.get_tensor_by_name Graph.device Graph.finalize
get_default_graph reset_default_graph Session Session.run Session.close Session.graph Session.__enter__
ConfigProto GPUOptions InteractiveSession RunOptions RunMetadata Tensor.eval Operation.run
name_scope variable_scope get_variable_scope VariableScope.reuse_variables GraphKeys add_to_collection
get_collection control_dependencies no_op group identity device
placeholder constant Variable Variable.initializer Variable.assign Variable.assign_add Variable.assign_sub
Variable.name Variable.op Variable.__getitem__ get_variable zeros ones zeros_like ones_like fill
random_normal truncated_normal random_uniform set_random_seed
constant_initializer zeros_initializer ones_initializer random_normal_initializer
truncated_normal_initializer random_uniform_initializer glorot_uniform_initializer
glorot_normal_initializer variance_scaling_initializer
global_variables_initializer local_variables_initializer variables_initializer initialize_all_variables
trainable_variables global_variables
float16 float32 float64 int8 int16 int32 int64 uint8 bool string
Tensor.__getitem__ add subtract multiply div divide truediv add_n matmul square sqrt rsqrt pow exp log
abs negative sign reciprocal maximum minimum clip_by_value sigmoid tanh reduce_sum reduce_mean
reduce_max reduce_min reduce_prod reduce_all reduce_any argmax argmin arg_max equal not_equal less
less_equal greater greater_equal logical_and logical_or logical_not where cast to_float to_int32
to_int64
reshape transpose concat stack unstack pack unpack split expand_dims squeeze slice gather tile pad shape
size rank range one_hot TensorShape Dimension TensorShape.as_list
cond
nn.relu nn.relu6 nn.elu nn.sigmoid nn.tanh nn.softmax nn.log_softmax nn.conv2d nn.conv2d_transpose
nn.bias_add nn.max_pool nn.avg_pool nn.dropout nn.l2_loss nn.moments nn.in_top_k
nn.softmax_cross_entropy_with_logits nn.softmax_cross_entropy_with_logits_v2
nn.sparse_softmax_cross_entropy_with_logits nn.sigmoid_cross_entropy_with_logits nn.embedding_lookup
losses.mean_squared_error losses.softmax_cross_entropy losses.sparse_softmax_cross_entropy
losses.get_total_loss contrib.layers.l2_regularizer contrib.layers.fully_connected contrib.layers.flatten
gradients stop_gradient train.GradientDescentOptimizer train.MomentumOptimizer train.AdamOptimizer
train.RMSPropOptimizer train.AdagradOptimizer train.Optimizer.minimize train.Optimizer.compute_gradients
train.Optimizer.apply_gradients train.Optimizer.get_slot train.exponential_decay train.piecewise_constant
train.ExponentialMovingAverage train.get_global_step train.get_or_create_global_step clip_by_global_norm
train.Saver train.Saver.save train.Saver.restore train.get_checkpoint_state train.latest_checkpoint
summary.scalar summary.histogram summary.image summary.merge_all summary.FileWriter
summary.FileWriter.add_summary summary.FileWriter.add_graph summary.FileWriter.flush
summary.FileWriter.close
app.run app.flags flags.DEFINE_string flags.DEFINE_integer flags.DEFINE_float flags.DEFINE_boolean
flags.FLAGS logging.set_verbosity logging.info logging.INFO gfile.Exists gfile.MakeDirs gfile.GFile
gfile.Glob gfile.DeleteRecursively compat.v1 disable_v2_behavior disable_eager_execution
""".split()

# Names tfcore keeps although TF 2.21's compat.v1 dropped them (the TF1 course code uses them).
NOT_IN_TF2_COMPAT = {"pack", "unpack", "arg_max", "contrib.layers.l2_regularizer",
                     "contrib.layers.fully_connected", "contrib.layers.flatten", "flags.DEFINE_string",
                     "flags.DEFINE_integer", "flags.DEFINE_float", "flags.DEFINE_boolean", "flags.FLAGS",
                     "app.flags", "compat.v1", "to_float", "to_int32", "to_int64", "div"}


def _lookup(module, dotted):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", TIER1)
def test_tier1_name_exists(name):
    _lookup(tfcore, name)


def _missing_in_tensorflow(names, known_missing):
    """The names of `names` that `tensorflow.compat.v1` lacks, leaving out `known_missing`."""
    tf = reference_tf()
    if tf is None:
        pytest.skip("TensorFlow is not installed")
    missing = []
    for name in names:
        if name in known_missing:
            continue
        try:
            _lookup(tf, name)
        except AttributeError:
            missing.append(name)
    return missing


def test_tier1_list_is_real_tensorflow_api():
    missing = _missing_in_tensorflow(TIER1, NOT_IN_TF2_COMPAT)
    assert not missing, f"not TF1 API names: {missing}"


def test_string_dtype_names():
    assert tfcore.as_dtype("float") == tfcore.float32
    assert tfcore.as_dtype("float64") == tfcore.float64
    assert tfcore.constant(1.5).dtype == tfcore.float32


# Tier 2 as far as tfcore covers it (tfcore/README.md, "Tier 2 of the TF1 surface").
TIER2 = """
data.Dataset data.Dataset.from_tensor_slices data.Dataset.from_tensors data.Dataset.range data.Dataset.zip
data.Dataset.map data.Dataset.filter data.Dataset.batch data.Dataset.shuffle data.Dataset.repeat
data.Dataset.take data.Dataset.skip data.Dataset.prefetch data.Dataset.make_one_shot_iterator
data.Dataset.make_initializable_iterator data.Iterator data.Iterator.from_structure
data.make_one_shot_iterator data.make_initializable_iterator errors.OutOfRangeError
layers.dense layers.conv2d layers.conv2d_transpose layers.max_pooling2d layers.average_pooling2d
layers.dropout layers.flatten layers.batch_normalization nn.max_pool2d nn.avg_pool2d nn.batch_normalization
nn.rnn_cell.BasicRNNCell nn.rnn_cell.BasicLSTMCell nn.rnn_cell.LSTMCell nn.rnn_cell.GRUCell
nn.rnn_cell.MultiRNNCell nn.rnn_cell.DropoutWrapper nn.rnn_cell.LSTMStateTuple contrib.rnn.BasicLSTMCell
contrib.rnn.static_rnn nn.static_rnn nn.dynamic_rnn nn.bidirectional_dynamic_rnn
train.export_meta_graph train.import_meta_graph train.write_graph io.write_graph GraphDef import_graph_def
graph_util.convert_variables_to_constants IndexedSlices IndexedSlicesValue scatter_add scatter_sub
scatter_update
""".split()

# TF 2.21's compat.v1 has no contrib, and with Keras 3 its rnn_cell classes and layers refuse to load;
# IndexedSlicesValue is what TF's sess.run returns but not a top-level name.
NOT_IN_TF2_21 = {name for name in TIER2 if name.startswith(("contrib.", "nn.rnn_cell.", "layers."))}
NOT_IN_TF2_21.add("IndexedSlicesValue")


@pytest.mark.parametrize("name", TIER2)
def test_tier2_name_exists(name):
    _lookup(tfcore, name)


def test_tier2_list_is_real_tensorflow_api():
    missing = _missing_in_tensorflow(TIER2, NOT_IN_TF2_21)
    assert not missing, f"not TF1 API names: {missing}"
