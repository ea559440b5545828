"""The class hub's parts that JupyterHub's own classes do not provide: the roster, an authenticator that
only signs up students on it, and a spawner that prepares each student's home and limits their server.

deploy/hub/jupyterhub_config.py puts this folder on `sys.path`; nothing in tfcore or course imports it.
"""
