"""How each timed workload is set up on each engine, inside that engine's worker process.

`SETUPS[name](engine, module)` builds the workload on one engine (`module`: tfcore, TF1-mode
`tensorflow.compat.v1` or torch) and returns a `Prepared` whose `step()` runs it once.
"""

from dataclasses import dataclass

from benchmarks import engines, models


@dataclass
class Prepared:
    """A workload ready to time on one engine: `step()` runs it once. For the TF1 engines `step` is
    ``sess.run(fetches, feed)``, kept apart so a traced run can repeat it."""

    step: object
    sess: object = None
    fetches: object = None
    feed: dict = None

    def close(self):
        if self.sess is not None:
            self.sess.close()


def _tf1(sess, fetches, feed):
    return Prepared(lambda: sess.run(fetches, feed), sess, fetches, feed)


def _tf1_session(tf, build):
    graph = tf.Graph()
    with graph.as_default():
        net = build(tf)
    sess = tf.Session(graph=graph, config=engines.session_config(tf))
    sess.run(net.init)
    return net, sess


def setup_mlp(engine, module):
    if engine == "torch":
        from benchmarks import torch_models
        return Prepared(torch_models.mlp_step())
    net, sess = _tf1_session(module, models.build_mlp)
    pixels, labels = models.mnist_like_batch()
    return _tf1(sess, [net.train_op, net.loss], {net.x: pixels, net.y: labels})


def setup_lenet_train(engine, module):
    if engine == "torch":
        from benchmarks import torch_models
        return Prepared(torch_models.lenet_train_step())
    net, sess = _tf1_session(module, models.build_lenet)
    pixels, labels = models.mnist_like_batch(images=True)
    return _tf1(sess, [net.train_op, net.loss], {net.x: pixels, net.y: labels})


def setup_lenet_infer(engine, module):
    if engine == "torch":
        from benchmarks import torch_models
        return Prepared(torch_models.lenet_inference_step())
    net, sess = _tf1_session(module, models.build_lenet)
    pixels, _ = models.mnist_like_batch(images=True)
    return _tf1(sess, net.logits, {net.x: pixels})


def setup_tiny(engine, module):
    import numpy as np

    if engine == "torch":
        from benchmarks import torch_models
        return Prepared(torch_models.tiny_step())
    tf = module
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        y = x * 2 + 1
    return _tf1(tf.Session(graph=graph, config=engines.session_config(tf)), y, {x: np.ones(10, np.float32)})


def setup_style(engine, module, size=256):
    if engine == "torch":
        from benchmarks import torch_models
        return Prepared(torch_models.style_step(size))
    net, sess = _tf1_session(module, lambda tf: models.build_style(tf, size))
    net.set_targets(sess)
    return _tf1(sess, [net.train_op, net.loss], net.feed)


SETUPS = {"mlp_step": setup_mlp, "lenet_train": setup_lenet_train, "lenet_infer": setup_lenet_infer,
          "tiny_run": setup_tiny, "style_256": setup_style}
