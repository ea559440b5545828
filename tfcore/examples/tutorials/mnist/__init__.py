"""The MNIST tutorial helpers: `input_data.read_data_sets`, as classic TF1 code imports it."""
