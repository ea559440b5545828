"""`tfcore.python`: where TF keeps modules that course code imports by their full path
(`from tensorflow.python.framework import graph_util` becomes
`from tfcore.python.framework import graph_util`)."""
