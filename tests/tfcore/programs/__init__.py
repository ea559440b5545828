"""Classic TF1 teaching programs, written once against a parameter `tf` (tfcore or TensorFlow).

Each mirrors the structure of a seed program of the course (see shared/docs/SEEDS.md) closely
enough that `import tfcore as tf` is the only change a student would make.
"""
