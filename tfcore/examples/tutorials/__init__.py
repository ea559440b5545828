"""TensorFlow 1 tutorial helpers (`tensorflow.examples.tutorials`)."""
