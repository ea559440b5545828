"""nbgrader for a student on the class hub: the course's id and the hub's shared exchange.

On JUPYTER_CONFIG_PATH of every student's server (deploy/hub/jupyterhub_config.py); fetched
assignments land in the student's home. `submit` files the work under the student's own login.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

c.CourseDirectory.course_id = "tfcore-course"
c.Exchange.root = os.environ["TFCORE_HUB_EXCHANGE"]
c.Exchange.path_includes_course = True
