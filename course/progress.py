"""Progress bars for every loop longer than a few seconds: tqdm's notebook-aware bar."""

from tqdm.auto import tqdm, trange


def progress(iterable=None, total=None, desc=None, **kwargs):
    """A progress bar over `iterable` (a widget in Jupyter, text in a terminal)."""
    return tqdm(iterable, total=total, desc=desc, **kwargs)


def progress_range(n, desc=None, **kwargs):
    """`range(n)` with a progress bar: `for step in progress_range(steps, "training"): ...`."""
    return trange(n, desc=desc, **kwargs)
