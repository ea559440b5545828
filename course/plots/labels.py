"""The rule every plotting helper keeps: a title and axis labels, given and non-empty."""


def _require(**texts):
    """Raise if any of the named texts (a title or an axis label) is missing or empty."""
    for what, text in texts.items():
        if text is None or not str(text).strip():
            raise ValueError(f"course.plots: {what} is required (a non-empty string), got {text!r}")


def _labelled(ax, title, xlabel, ylabel):
    """`ax` with its title and both axis labels set (returned)."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
