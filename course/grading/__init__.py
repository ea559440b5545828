"""Grading the course's nbgrader assignments: the steps nbgrader itself does not provide.

- `resume`: finish an interrupted `nbgrader autograde` (`course grading resume`);
- `sandbox`: the bubblewrap sandbox every graded notebook's kernel runs in (`GradingSandbox`);
- `execute`: the pieces `grading/nbgrader_config.py` plugs into nbgrader's autograde (the sandboxed
  kernel manager and execute preprocessor, the check that stops before grading when the sandbox
  cannot start);
- `feedback`: the preprocessor that keeps hidden tests out of the students' feedback.
"""

from course.grading.resume import resume, unfinished

__all__ = ["unfinished", "resume"]
