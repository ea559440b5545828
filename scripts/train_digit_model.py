"""Train the digit app's LeNet-5 on MNIST with tfcore and write the checkpoint the app ships.

    TFCORE_DATASETS=../shared/datasets .venv/bin/python scripts/train_digit_model.py
    .venv/bin/python scripts/train_digit_model.py --steps 200 --out /tmp/try/lenet5.ckpt   # a quick try

The network is `apps/digits.py`'s (a narrow LeNet-5, about 215,000 weights); it trains with Adam and
dropout, reports the accuracy on the whole MNIST test set and saves only the network's weights (no
optimizer slots, no meta graph), so the checkpoint stays under a megabyte. The default output is the
shipped checkpoint, apps/models/lenet5_digits/lenet5.ckpt; the run is seeded, so rerunning it gives
the same kind of model (the exact weights depend on the BLAS library's summation order).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "apps"))

import digits  # noqa: E402  (apps/digits.py)

import course  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2500, help="training steps (default 2500)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-images", type=int, default=10000, help="MNIST test images to measure on")
    parser.add_argument("--out", type=Path, default=digits.CHECKPOINT, help="checkpoint prefix to write")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tf = course.engine()
    np.random.seed(args.seed)
    mnist = course.data.mnist(one_hot=False)

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(args.seed)
        images = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
        labels = tf.placeholder(tf.int64, [None], name="labels")
        train_logits = digits.inference(tf, images, dropout_rate=0.5)
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            eval_logits = digits.inference(tf, images)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(logits=train_logits,
                                                                             labels=labels))
        train_op = tf.train.AdamOptimizer(args.learning_rate).minimize(loss)
        prediction = tf.argmax(eval_logits, 1)
        weights = tf.trainable_variables()
        saver = tf.train.Saver(var_list=weights)
        init = tf.global_variables_initializer()

    start = time.time()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        bar = course.progress_range(args.steps, desc="training the digit model")
        for step in bar:
            xs, ys = mnist.train.next_batch(args.batch_size)
            _, loss_value = sess.run([train_op, loss], {images: xs.reshape(-1, 28, 28, 1), labels: ys})
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss_value:.3f}")
        seconds = time.time() - start
        test_images = mnist.test.images[:args.test_images]
        predicted = np.concatenate([
            sess.run(prediction, {images: test_images[i:i + 1000].reshape(-1, 28, 28, 1)})
            for i in range(0, len(test_images), 1000)])
        accuracy = float(np.mean(predicted == mnist.test.labels[:args.test_images]))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        path = saver.save(sess, str(args.out), write_meta_graph=False, write_state=False)

    files = sorted(p for p in args.out.parent.iterdir() if p.name.startswith(args.out.name))
    size = sum(p.stat().st_size for p in files)
    summary = {"checkpoint": path, "steps": args.steps, "batch_size": args.batch_size,
               "training_seconds": round(seconds, 1), "test_images": len(test_images),
               "test_accuracy": round(accuracy, 4),
               "weights": int(sum(np.prod(v.get_shape().as_list()) for v in weights)), "bytes": size}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
