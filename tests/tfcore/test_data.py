"""tf.data in TF1 graph mode (tfcore/data/): datasets, their transformations and iterators.

Every program here is written once against a parameter `tf` and runs on each engine (tfcore, and
TensorFlow where it is installed), so the expected values, written from what the transformation
means, are TensorFlow's too. `shuffle`'s order cannot be TF's (another generator): its tests check
the buffer semantics and the seed rules instead. The dataset ops produce no floating values of their
own and have no gradients (as in TF), so there is no gradient check here.
"""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, run_in_graph


def _all(tf, sess, element, feed=None):
    """Every remaining element, by the classic TF1 loop that ends at OutOfRangeError."""
    out = []
    while True:
        try:
            out.append(sess.run(element, feed))
        except tf.errors.OutOfRangeError:
            break
    return out


def _elements(tf, make_dataset):
    """The elements of `make_dataset(tf)` through a one-shot iterator, with the dataset."""
    def program(tf):
        dataset = make_dataset(tf)
        element = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
        with tf.Session() as sess:
            return _all(tf, sess, element)
    return run_in_graph(tf, program)


def _walk(value, leaf):
    """`value` with dicts, tuples and lists walked and `leaf(x)` in place of everything else."""
    if isinstance(value, dict):
        return {k: _walk(v, leaf) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_walk(v, leaf) for v in value)
    return leaf(value)


def _plain(value):
    """Fetched values as plain Python (lists, tuples, dicts), for comparing structures."""
    return _walk(value, lambda x: np.asarray(x).tolist())


def _shapes(shapes):
    return _walk(shapes, lambda s: s.as_list() if s.ndims is not None else None)


# ================================================================================================
# Sources and transformations: the elements
# ================================================================================================

X = np.arange(12, dtype=np.float32).reshape(6, 2)
Y = np.array([0, 1, 0, 1, 1, 0], dtype=np.int64)

PIPELINES = {
    "slices": (lambda tf: tf.data.Dataset.from_tensor_slices(X), [r.tolist() for r in X]),
    "slices_tuple": (lambda tf: tf.data.Dataset.from_tensor_slices((X, Y)),
                     [(r.tolist(), int(y)) for r, y in zip(X, Y)]),
    "slices_dict": (lambda tf: tf.data.Dataset.from_tensor_slices({"x": X[:2], "y": Y[:2]}),
                    [{"x": X[0].tolist(), "y": 0}, {"x": X[1].tolist(), "y": 1}]),
    "slices_list": (lambda tf: tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
    "from_tensors": (lambda tf: tf.data.Dataset.from_tensors((X[:2], 7)), [(X[:2].tolist(), 7)]),
    "range_stop": (lambda tf: tf.data.Dataset.range(4), [0, 1, 2, 3]),
    "range_step": (lambda tf: tf.data.Dataset.range(10, 2, -3), [10, 7, 4]),
    "zip": (lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(5, 10))),
            [(0, 5), (1, 6), (2, 7)]),
    "repeat": (lambda tf: tf.data.Dataset.range(3).repeat(2), [0, 1, 2, 0, 1, 2]),
    "repeat_empty_forever": (lambda tf: tf.data.Dataset.range(0).repeat(), []),
    "take": (lambda tf: tf.data.Dataset.range(5).take(2), [0, 1]),
    "take_all": (lambda tf: tf.data.Dataset.range(3).take(-1), [0, 1, 2]),
    "skip": (lambda tf: tf.data.Dataset.range(5).skip(3), [3, 4]),
    "skip_all": (lambda tf: tf.data.Dataset.range(5).skip(-1), []),
    "repeat_forever_take": (lambda tf: tf.data.Dataset.range(2).repeat().take(5), [0, 1, 0, 1, 0]),
    "prefetch": (lambda tf: tf.data.Dataset.range(3).prefetch(2), [0, 1, 2]),
    "concatenate": (lambda tf: tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(7, 9)),
                    [0, 1, 7, 8]),
    "filter": (lambda tf: tf.data.Dataset.range(10).filter(lambda x: tf.equal(x % 3, 0)), [0, 3, 6, 9]),
    "batch": (lambda tf: tf.data.Dataset.range(5).batch(2), [[0, 1], [2, 3], [4]]),
    "batch_drop": (lambda tf: tf.data.Dataset.range(5).batch(2, drop_remainder=True), [[0, 1], [2, 3]]),
    "batch_tuple": (lambda tf: tf.data.Dataset.from_tensor_slices((X, Y)).batch(4),
                    [(X[:4].tolist(), Y[:4].tolist()), (X[4:].tolist(), Y[4:].tolist())]),
    "batch_repeat": (lambda tf: tf.data.Dataset.range(3).batch(2).repeat(2), [[0, 1], [2], [0, 1], [2]]),
    "map_batch": (lambda tf: tf.data.Dataset.range(4).map(lambda x: x * x).batch(3), [[0, 1, 4], [9]]),
}


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_transformation_elements(engine_name, pipeline):
    make, expected = PIPELINES[pipeline]
    assert [_plain(e) for e in _elements(engine(engine_name), make)] == expected


@pytest.mark.parametrize("engine_name", engines())
def test_map_with_tuples_dicts_and_ops_inside(engine_name):
    def make(tf):
        features = {"pixels": np.arange(8, dtype=np.uint8).reshape(4, 2), "id": np.arange(4)}
        dataset = tf.data.Dataset.from_tensor_slices((features, Y[:4]))

        def preprocess(feature, label):  # a tuple element is spread over the parameters
            image = tf.cast(feature["pixels"], tf.float32) / 255.0
            return {"image": tf.reduce_sum(image) * 255.0, "twice": feature["id"] * 2}, tf.one_hot(label, 2)
        return dataset.map(preprocess).map(lambda f, y: [f["image"] + tf.reduce_max(y), f["twice"]])
    got = [_plain(e) for e in _elements(engine(engine_name), make)]
    assert got == [(2.0, 0), (6.0, 2), (10.0, 4), (14.0, 6)]  # a returned list is a tuple element


@pytest.mark.parametrize("engine_name", engines())
def test_map_gets_the_static_shapes_and_dtypes(engine_name):
    seen = []

    def make(tf):
        x = tf.placeholder(tf.float32, [None, 3, 2])
        dataset = tf.data.Dataset.from_tensor_slices((x, np.arange(5, dtype=np.int32)))

        def spy(image, label):
            seen.append((image.get_shape().as_list(), image.dtype.name, label.get_shape().as_list(),
                         label.dtype.name))
            return tf.reshape(image, [6]), label
        mapped = dataset.map(spy)
        return _shapes(mapped.output_shapes), [t.name for t in mapped.output_types]
    assert run_in_graph(engine(engine_name), make) == (([6], []), ["float32", "int32"])
    assert seen == [([3, 2], "float32", [], "int32")]  # traced once


@pytest.mark.parametrize("engine_name", engines())
def test_static_shapes_of_batches(engine_name):
    def make(tf):
        dataset = tf.data.Dataset.from_tensor_slices((X, Y))
        return [_shapes(dataset.output_shapes), _shapes(dataset.batch(4).output_shapes),
                _shapes(dataset.batch(4, drop_remainder=True).output_shapes),
                _shapes(dataset.batch(2).batch(3, drop_remainder=True).output_shapes),
                _shapes(dataset.batch(4, drop_remainder=True).make_one_shot_iterator().get_next()[0].shape),
                _shapes(tf.data.Dataset.range(3).output_shapes), tf.data.Dataset.range(3).output_types.name,
                _shapes(tf.compat.v1.data.get_output_shapes(dataset.make_initializable_iterator())),
                [t.name for t in tf.compat.v1.data.get_output_types(dataset)],
                tf.compat.v1.data.get_output_classes(dataset)[0] is tf.Tensor]
    assert run_in_graph(engine(engine_name), make) == [
        ([2], []), ([None, 2], [None]), ([4, 2], [4]), ([3, None, 2], [3, None]), [4, 2], [], "int64",
        ([2], []), ["float32", "int64"], True]


# ================================================================================================
# Shuffle: the buffer semantics and the seed rules
# ================================================================================================


def _shuffled(tf, buffer_size, n=20, seed=None, epochs=1, inits=1, reshuffle=None):
    def program(tf):
        dataset = tf.data.Dataset.range(n).shuffle(buffer_size, seed=seed, reshuffle_each_iteration=reshuffle)
        iterator = dataset.repeat(epochs).make_initializable_iterator()
        element = iterator.get_next()
        with tf.Session() as sess:
            runs = []
            for _ in range(inits):
                sess.run(iterator.initializer)
                values = [int(v) for v in _all(tf, sess, element)]
                runs.append([values[i * n:(i + 1) * n] for i in range(epochs)])
            return runs
    return run_in_graph(tf, program)


@pytest.mark.parametrize("engine_name", engines())
def test_shuffle_buffer_semantics(engine_name):
    tf = engine(engine_name)
    assert _shuffled(tf, 1) == [[list(range(20))]]  # a buffer of one: no reordering
    [[full]] = _shuffled(tf, 100)  # a buffer holding everything: a permutation
    assert sorted(full) == list(range(20)) and full != list(range(20))
    [[order]] = _shuffled(tf, 3, n=50)  # with a buffer of k, output i is one of the first i + k elements
    assert sorted(order) == list(range(50)) and order != list(range(50))
    assert all(v < i + 3 for i, v in enumerate(order))


@pytest.mark.parametrize("engine_name", engines())
def test_shuffle_seed_repeats_across_programs_and_initializations(engine_name):
    tf = engine(engine_name)
    first = _shuffled(tf, 100, seed=7, epochs=2, inits=2)
    again = _shuffled(tf, 100, seed=7, epochs=2, inits=1)
    (epoch1, epoch2), (epoch1_again, epoch2_again) = first
    assert (epoch1, epoch2) == (epoch1_again, epoch2_again) == tuple(again[0])
    assert epoch1 != epoch2  # reshuffle_each_iteration (the default): each epoch a new order
    assert sorted(epoch2) == list(range(20))


@pytest.mark.parametrize("engine_name", engines())
def test_shuffle_without_reshuffle_repeats_each_epoch(engine_name):
    [[epoch1, epoch2, epoch3]] = _shuffled(engine(engine_name), 100, epochs=3, reshuffle=False)
    assert epoch1 == epoch2 == epoch3 and sorted(epoch1) == list(range(20))


@pytest.mark.parametrize("engine_name", engines())
def test_shuffle_without_seed_differs_between_programs(engine_name):
    tf = engine(engine_name)
    orders = [_shuffled(tf, 100)[0][0] for _ in range(3)]
    assert len({tuple(o) for o in orders}) > 1


# ================================================================================================
# Iterators
# ================================================================================================


@pytest.mark.parametrize("engine_name", engines())
def test_end_of_sequence_raises_out_of_range_every_time(engine_name):
    def program(tf):
        element = tf.data.Dataset.range(2).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            values = [sess.run(element), sess.run(element)]
            for _ in range(2):
                with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                    sess.run(element)
            return values
    assert run_in_graph(engine(engine_name), program) == [0, 1]


@pytest.mark.parametrize("engine_name", engines())
def test_one_run_advances_once_however_many_components_are_fetched(engine_name):
    def program(tf):
        x, y = tf.data.Dataset.from_tensor_slices((X, Y)).make_one_shot_iterator().get_next()
        doubled = x * 2.0
        with tf.Session() as sess:
            return [_plain(sess.run(x)), _plain(sess.run([x, y, doubled])), _plain(sess.run(y)),
                    _plain(sess.run({"a": doubled, "b": x}))]
    assert run_in_graph(engine(engine_name), program) == [
        [0.0, 1.0], [[2.0, 3.0], 1, [4.0, 6.0]], 0, {"a": [12.0, 14.0], "b": [6.0, 7.0]}]


@pytest.mark.parametrize("engine_name", engines())
def test_initializable_iterator_reinitialized_with_other_feeds(engine_name):
    def program(tf):
        data = tf.placeholder(tf.float32, [None, 2])
        batch_size = tf.placeholder(tf.int64, [])
        iterator = tf.data.Dataset.from_tensor_slices(data).batch(batch_size).make_initializable_iterator()
        batch = iterator.get_next()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError):
                sess.run(batch)
            sess.run(iterator.initializer, {data: X, batch_size: 4})
            first = [_plain(b) for b in _all(tf, sess, batch)]
            sess.run(iterator.initializer, {data: X[:3] * 10, batch_size: 2})
            partly = _plain(sess.run(batch))
            sess.run(iterator.initializer, {data: X[:3] * 10, batch_size: 2})  # restarts
            return first, partly, [_plain(b) for b in _all(tf, sess, batch)]
    first, partly, second = run_in_graph(engine(engine_name), program)
    assert first == [X[:4].tolist(), X[4:].tolist()]
    assert partly == (X[:2] * 10).tolist()
    assert second == [(X[:2] * 10).tolist(), (X[2:3] * 10).tolist()]


@pytest.mark.parametrize("engine_name", engines())
def test_iterator_from_structure_switches_datasets(engine_name):
    def program(tf):
        train = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4)
        test = tf.data.Dataset.from_tensor_slices((X[:1] + 100, Y[:1])).batch(4)
        iterator = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
        x, y = iterator.get_next()
        to_train, to_test = iterator.make_initializer(train), iterator.make_initializer(test)
        with tf.Session() as sess:
            sess.run(to_train)
            one = _plain(sess.run(y))
            sess.run(to_test)
            two = [_plain(v) for v in _all(tf, sess, x)]
            sess.run(to_train)
            return one, two, _plain(sess.run(y)), x.get_shape().as_list()
    assert run_in_graph(engine(engine_name), program) == (
        [0, 1, 0, 1], [[[100.0, 101.0]]], [0, 1, 0, 1], [None, 2])


@pytest.mark.parametrize("engine_name", engines())
def test_two_sessions_keep_their_own_positions(engine_name):
    def program(tf):
        dataset = tf.data.Dataset.range(10)
        one_shot = dataset.make_one_shot_iterator().get_next()
        iterator = dataset.make_initializable_iterator()
        element = iterator.get_next()
        first, second = tf.Session(), tf.Session()
        try:
            for sess in (first, second):
                sess.run(iterator.initializer)
            a = [int(first.run(element)) for _ in range(3)]
            b = [int(second.run(element)) for _ in range(2)]
            c = [int(first.run(one_shot)) for _ in range(2)] + [int(second.run(one_shot))]
            return a, b, int(first.run(element)), c
        finally:
            first.close()
            second.close()
    assert run_in_graph(engine(engine_name), program) == ([0, 1, 2], [0, 1], 3, [0, 1, 0])


@pytest.mark.parametrize("engine_name", engines())
def test_training_a_linear_model_from_a_dataset(engine_name):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(64, 3)).astype(np.float32)
    targets = (features @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)

    def program(tf):
        dataset = (tf.data.Dataset.from_tensor_slices((features, targets))
                   .shuffle(64, seed=1).batch(16).repeat())
        x, y = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(0.0)
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train, loss])[1] for _ in range(60)]
            return losses, sess.run(w).ravel()
    losses, w = run_in_graph(engine(engine_name), program)
    assert np.mean(losses[-8:]) < 0.01 * np.mean(losses[:4])
    np.testing.assert_allclose(w, [1.5, -2.0, 0.5], atol=0.05)


# ================================================================================================
# Bad input: clear errors
# ================================================================================================

BUILD_ERRORS = {
    "map_returns_none": (lambda tf: tf.data.Dataset.range(3).map(lambda x: None), ValueError),
    "map_returns_object": (lambda tf: tf.data.Dataset.range(3).map(lambda x: object()), TypeError),
    "filter_not_bool": (lambda tf: tf.data.Dataset.range(3).filter(lambda x: x), ValueError),
    "slices_of_a_scalar": (lambda tf: tf.data.Dataset.from_tensor_slices(3.0), ValueError),
    "slices_of_unequal_sizes": (lambda tf: tf.data.Dataset.from_tensor_slices(([1, 2], [1, 2, 3])),
                                ValueError),
    "initializer_of_other_types": (lambda tf: tf.data.Iterator.from_structure(tf.float32).make_initializer(
        tf.data.Dataset.range(3)), TypeError),
    "one_shot_with_placeholder": (lambda tf: tf.data.Dataset.from_tensor_slices(
        tf.placeholder(tf.float32, [None])).make_one_shot_iterator(), ValueError),
    "python_iteration_in_a_graph": (lambda tf: iter(tf.data.Dataset.range(3)), RuntimeError),
}


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_build_time_errors(engine_name, case):
    build, error = BUILD_ERRORS[case]
    with pytest.raises(error):
        run_in_graph(engine(engine_name), build)


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("make", [lambda tf, n: tf.data.Dataset.range(3).batch(n),
                                  lambda tf, n: tf.data.Dataset.range(3).shuffle(n)],
                         ids=["batch", "shuffle"])
def test_fed_size_zero_fails_when_the_initializer_runs(engine_name, make):
    def program(tf):
        size = tf.placeholder(tf.int64, [])
        iterator = make(tf, size).make_initializable_iterator()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="must be greater than zero"):
                sess.run(iterator.initializer, {size: 0})
    run_in_graph(engine(engine_name), program)


@pytest.mark.parametrize("build, message", [
    (lambda tf: tf.data.Dataset.range(3).batch(0), r"Dataset.batch\(\): batch_size must be greater than"),
    (lambda tf: tf.data.Dataset.range(3).shuffle(-1), r"Dataset.shuffle\(\): buffer_size must be greater"),
    (lambda tf: tf.data.Dataset.range(0, 3, 0), r"Dataset.range\(\): step must be a non-zero integer"),
    (lambda tf: tf.data.Dataset.range(3).map(lambda x: x + tf.constant(1, tf.int64) + OUTER[0]),
     r"Dataset.map\(\): the function uses a tensor built outside it"),
    (lambda tf: tf.data.Dataset.range(3).map(lambda x: OUTER[0]), r"Dataset.map\(\): the function returned"),
    (lambda tf: tf.data.Dataset.range(3).map(3), r"Dataset.map\(\): expected a function"),
], ids=["batch_size_0", "buffer_size_negative", "range_step_0", "map_captures", "map_returns_outer",
        "map_not_callable"])
def test_tfcore_names_the_method_at_build_time(build, message):
    # Where TensorFlow waits for the initializer's run (a known batch size of 0), tfcore says so
    # when the graph is built; and it cannot capture tensors of the program's graph in a function.
    def program(tf):
        OUTER[:] = [tf.constant(5, tf.int64)]
        with pytest.raises((ValueError, TypeError), match=message):
            build(tf)
    run_in_graph(tfcore, program)


OUTER = []


def test_batching_elements_of_different_shapes_names_them():
    def program(tf):
        dataset = tf.data.Dataset.range(1, 4).map(lambda n: tf.fill(tf.reshape(tf.cast(n, tf.int32), [1]),
                                                                    1.0))
        element = dataset.batch(2).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"Cannot batch tensors with different "
                               r"shapes in component 0. First element had shape \[1\] and element 1 had "
                               r"shape \[2\]"):
                sess.run(element)
    run_in_graph(tfcore, program)


def test_graph_shows_the_dataset_ops_as_tensorflow_names_them():
    def program(tf):
        dataset = tf.data.Dataset.from_tensor_slices(X).map(lambda x: x + 1.0).batch(2).repeat()
        iterator = dataset.make_initializable_iterator()
        element = iterator.get_next()
        names = [op.name for op in tf.get_default_graph().get_operations()]
        return names, str(iterator._iterator_resource), str(element), str(dataset._variant_tensor)
    names, handle, element, variant = run_in_graph(tfcore, program)
    assert names == ["normalize_element/component_0", "TensorSliceDataset", "MapDataset", "batch_size",
                     "BatchDatasetV2", "count", "RepeatDataset", "IteratorV2", "MakeIterator",
                     "IteratorGetNext"]
    assert handle == 'Tensor("IteratorV2:0", shape=(), dtype=resource)'
    assert element == 'Tensor("IteratorGetNext:0", shape=(?, 2), dtype=float32)'
    assert variant == 'Tensor("RepeatDataset:0", shape=(), dtype=variant)'



@pytest.mark.parametrize("engine_name", engines())
def test_a_graph_with_datasets_is_saved_with_its_meta_graph(engine_name, tmp_path):
    def program(tf):
        dataset = tf.data.Dataset.range(4).map(lambda x: x * 2).filter(lambda x: x > 2)
        element = dataset.make_one_shot_iterator().get_next()
        tf.Variable(1.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
            return [int(sess.run(element)) for _ in range(2)]
    assert run_in_graph(engine(engine_name), program) == [4, 6]
    assert (tmp_path / "model.ckpt.meta").exists()
