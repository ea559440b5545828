"""Feedback without the hidden tests.

nbgrader's `generate_feedback` renders the autograded notebook, whose test cells hold the hidden tests
(they ran at grading), so the HTML a student receives would show them in full, and the traceback of a
failed hidden test would show its code again. `RedactHiddenTests` runs before the HTML is written:

- each hidden-test region is removed from its cell, leaving a one-line note;
- a test cell's error keeps only its message (`AssertionError: ...`), not the traceback with the code;
- every line of any output that contains a line of hidden test code (say, printed by the student's own
  code while the tests ran) is replaced by a note.

The score of each cell, shown by nbgrader's feedback page, says which tests passed.
"""

import re

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

__all__ = ["RedactHiddenTests", "feedback_preprocessors"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NOTE = "# (hidden tests: not shown)"
REDACTED = "[a line of hidden test code was removed here]"


def feedback_preprocessors():
    """nbgrader's feedback preprocessors with `RedactHiddenTests` after the grades are read."""
    return [GetGrades, RedactHiddenTests, CSSHTMLHeaderPreprocessor]


class RedactHiddenTests(NbGraderPreprocessor):
    """Removes the hidden tests, their tracebacks and any output that repeats their code."""

    begin_test_delimiter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end_test_delimiter = Unicode("END HIDDEN TESTS").tag(config=True)
    min_line_length = Integer(8, help="Shorter hidden lines (`pass`, `)`) are not searched for in "
                              "outputs.").tag(config=True)
    # The HTML exporter configures this on every NbConvertBase; declared here as GetGrades does, so
    # generate_feedback does not warn that RedactHiddenTests does not know it (it is not used).
    display_data_priority = List(GetGrades.display_data_priority.default()).tag(config=True)

    def preprocess(self, nb, resources):
        """Redact every cell of `nb`; the hidden lines are gathered from all test cells first."""
        hidden = set()
        for cell in nb.cells:
            if cell.cell_type == "code" and self.begin_test_delimiter in cell.source:
                visible, inside = self._split(cell.source)
                hidden.update(line.strip() for line in inside)
                hidden.difference_update(line.strip() for line in visible)
                cell.source = "\n".join([*visible, NOTE])
                for output in cell.get("outputs", []):
                    if output.output_type == "error":
                        output.traceback = [f"{_ANSI.sub('', output.ename)}: {_ANSI.sub('', output.evalue)}"]
        hidden = {line for line in hidden if len(line) >= self.min_line_length}
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                _redact_output(output, hidden)
        return nb, resources

    def _split(self, source):
        """(visible lines, hidden lines) of a test cell's source (the marker lines in neither)."""
        visible, inside, in_region = [], [], False
        for line in source.splitlines():
            if self.begin_test_delimiter in line:
                in_region = True
            elif self.end_test_delimiter in line:
                in_region = False
            elif in_region:
                inside.append(line)
            else:
                visible.append(line)
        return visible, inside


def _redact_text(text, hidden):
    """`text` with each line that contains a hidden line (ANSI colours ignored) replaced by a note."""
    if not hidden or not isinstance(text, str):
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        plain = _ANSI.sub("", line)
        if any(code in plain for code in hidden):
            lines[index] = REDACTED
    return "\n".join(lines)


def _redact_output(output, hidden):
    """Redact one output in place: stream text, every text value of its data, an error's lines."""
    if "text" in output:
        output.text = _redact_text(output.text, hidden)
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/"):
            text = value if isinstance(value, str) else "".join(value)
            output.data[mime] = _redact_text(text, hidden)
    if output.get("output_type") == "error":
        output.evalue = _redact_text(output.evalue, hidden)
        output.traceback = [_redact_text(line, hidden) for line in output.traceback]
