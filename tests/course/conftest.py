"""What the `course` package tests share: matplotlib without a display, figures closed after each test,
and small notebooks written on the fly."""

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def make_notebook(tmp_path):
    """`make_notebook(name, *cells)`: write a notebook of code cells (strings) and markdown cells
    (strings starting with "#") into tmp_path/lessons and return its path."""
    folder = tmp_path / "lessons"
    folder.mkdir(exist_ok=True)

    def make(name, *cells):
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        notebook.cells = [nbformat.v4.new_markdown_cell(c) if c.startswith("#") else
                          nbformat.v4.new_code_cell(c) for c in cells]
        path = folder / name
        nbformat.write(notebook, path)
        return path

    return make
