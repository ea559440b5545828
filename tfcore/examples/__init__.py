"""Example code shipped with tfcore, laid out as TensorFlow 1 shipped it (`tensorflow.examples`)."""
