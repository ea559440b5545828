"""`tf.initializers`: the initializer classes under their short names (tfcore/ops/init_ops.py)."""

# ruff: noqa: F401
from tfcore.ops.init_ops import Constant as constant
from tfcore.ops.init_ops import GlorotNormal as glorot_normal
from tfcore.ops.init_ops import GlorotUniform as glorot_uniform
from tfcore.ops.init_ops import Identity as identity
from tfcore.ops.init_ops import Ones as ones
from tfcore.ops.init_ops import RandomNormal as random_normal
from tfcore.ops.init_ops import RandomUniform as random_uniform
from tfcore.ops.init_ops import TruncatedNormal as truncated_normal
from tfcore.ops.init_ops import UniformUnitScaling as uniform_unit_scaling
from tfcore.ops.init_ops import VarianceScaling as variance_scaling
from tfcore.ops.init_ops import Zeros as zeros
from tfcore.ops.init_ops import he_normal, he_uniform, lecun_normal, lecun_uniform
from tfcore.ops.variables import global_variables_initializer as global_variables
from tfcore.ops.variables import local_variables_initializer as local_variables
from tfcore.ops.variables import variables_initializer as variables
