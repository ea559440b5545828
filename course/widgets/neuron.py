"""The neuron explorer: one neuron, `f(w1*x1 + w2*x2 + b)`, drawn over a grid of two inputs.

    from course.widgets.neuron import neuron_explorer
    neuron_explorer(tf)      # a dropdown for f, sliders for w1, w2 and b, and the output as an image

The graph is built once, in a graph of its own, when the widget is made; moving a slider only feeds
new numbers into placeholders. However long a student plays, the graph never grows.
"""

import io

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

# (label in the dropdown, key) in the order the lesson introduces them.
ACTIVATIONS = (
    ("ReLU", "relu"),
    ("sigmoid", "sigmoid"),
    ("tanh", "tanh"),
    ("leaky ReLU (alpha 0.2)", "leaky_relu"),
    ("ELU", "elu"),
    ("none (linear)", "linear"),
)

# Activations whose range is fixed get a fixed colour scale, so that moving a slider shows the
# output changing rather than the colour bar rescaling.
_FIXED_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def neuron_explorer(tf, activation="sigmoid", w1=1.0, w2=-1.0, b=0.0, extent=4.0, resolution=101):
    """A widget: pick an activation, move the neuron's two weights and bias, see its output.

    `tf` is the engine (`course.engine()`). The output `f(w1*x1 + w2*x2 + b)` is shown as an image over
    the square of inputs `[-extent, extent]^2`, with the line where the pre-activation is zero.
    """
    return NeuronExplorer(tf, activation=activation, w1=w1, w2=w2, b=b, extent=extent,
                          resolution=resolution)


def _signed(value):
    """`+ 1.5` or `- 1.5`: a term of a sum, written the way one writes it by hand."""
    return f"{'-' if value < 0 else '+'} {abs(value):.1f}"


class NeuronExplorer(widgets.VBox):
    """The controls and the rendered image of one neuron; `graph` is built once, in `__init__`."""

    def __init__(self, tf, activation="sigmoid", w1=1.0, w2=-1.0, b=0.0, extent=4.0, resolution=101):
        keys = [key for _, key in ACTIVATIONS]
        if activation not in keys:
            raise ValueError(f"activation must be one of {keys}, not {activation!r}")
        self.extent = float(extent)
        axis = np.linspace(-self.extent, self.extent, resolution, dtype=np.float32)
        self.x1, self.x2 = np.meshgrid(axis, axis)  # rows follow x2, columns x1
        self._build_graph(tf)

        slider = dict(min=-3.0, max=3.0, step=0.1, readout_format=".1f", continuous_update=True)
        self.controls = {
            "activation": widgets.Dropdown(options=ACTIVATIONS, value=activation, description="activation"),
            "w1": widgets.FloatSlider(value=w1, description="weight w1", **slider),
            "w2": widgets.FloatSlider(value=w2, description="weight w2", **slider),
            "b": widgets.FloatSlider(value=b, description="bias b", **slider),
        }
        for control in self.controls.values():
            control.style.description_width = "80px"
            control.observe(self._on_change, names="value")
        self.image = widgets.Image(format="png")
        self._build_figure()
        super().__init__(children=[widgets.VBox(list(self.controls.values())), self.image])
        self.update()

    def _build_graph(self, tf):
        """Placeholders for the weights and bias; one output tensor per activation, all built once."""
        self.graph = tf.Graph()
        with self.graph.as_default(), tf.name_scope("neuron"):
            self._w1 = tf.placeholder(tf.float32, shape=[], name="w1")
            self._w2 = tf.placeholder(tf.float32, shape=[], name="w2")
            self._b = tf.placeholder(tf.float32, shape=[], name="b")
            x1 = tf.constant(self.x1, name="x1")
            x2 = tf.constant(self.x2, name="x2")
            z = tf.add(self._w1 * x1 + self._w2 * x2, self._b, name="z")
            self._outputs = {
                "relu": tf.nn.relu(z),
                "sigmoid": tf.sigmoid(z),
                "tanh": tf.tanh(z),
                "leaky_relu": tf.nn.leaky_relu(z, alpha=0.2),
                "elu": tf.nn.elu(z),
                "linear": tf.identity(z, name="linear"),
            }
        self.graph.finalize()  # any attempt to add an op later fails loudly
        self._session = tf.Session(graph=self.graph)

    def _build_figure(self):
        """One matplotlib figure (not pyplot's: it is only ever rendered into the image widget)."""
        self.figure = Figure(figsize=(5.6, 4.4), dpi=90, layout="constrained")
        self._ax = self.figure.add_subplot()
        box = [-self.extent, self.extent, -self.extent, self.extent]
        self._im = self._ax.imshow(np.zeros_like(self.x1), origin="lower", extent=box, cmap="viridis")
        self._colorbar = self.figure.colorbar(self._im, ax=self._ax)
        self._colorbar.set_label("neuron output")
        (self._boundary,) = self._ax.plot([], [], color="white", linestyle="--", linewidth=1.5)
        self._ax.set_xlim(-self.extent, self.extent)
        self._ax.set_ylim(-self.extent, self.extent)
        self._ax.set_xlabel("input x1")
        self._ax.set_ylabel("input x2")

    def values(self):
        """The neuron's output over the grid for the current controls (rows: x2, columns: x1)."""
        feed = {self._w1: self.controls["w1"].value, self._w2: self.controls["w2"].value,
                self._b: self.controls["b"].value}
        return self._session.run(self._outputs[self.controls["activation"].value], feed_dict=feed)

    def update(self):
        """Run the graph for the current controls and redraw the image."""
        activation = self.controls["activation"].value
        w1, w2, b = (self.controls[name].value for name in ("w1", "w2", "b"))
        out = self.values()
        low, high = _FIXED_RANGE.get(activation, (float(out.min()), float(out.max())))
        if high - low < 1e-6:  # a flat output (all weights zero): give the colour bar some room
            low, high = low - 0.5, high + 0.5
        self._im.set_data(out)
        self._im.set_clim(low, high)
        self._draw_boundary(w1, w2, b)
        name = {key: text for text, key in ACTIVATIONS}[activation].split(" (")[0]
        self._ax.set_title(f"Neuron output: {name}({w1:.1f}·x1 {_signed(w2)}·x2 {_signed(b)})\n"
                           "dashed line: w1·x1 + w2·x2 + b = 0", fontsize="medium")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        # Lay out once, then keep the axes where they are: a fresh layout on every slider step
        # would double the drawing time.
        self.figure.set_layout_engine("none")
        self.image.value = buffer.getvalue()

    def _draw_boundary(self, w1, w2, b):
        """The line where the pre-activation is zero (none when both weights are zero)."""
        e = self.extent
        if abs(w2) > 1e-9:
            xs = np.array([-e, e])
            self._boundary.set_data(xs, -(w1 * xs + b) / w2)
        elif abs(w1) > 1e-9:
            self._boundary.set_data([-b / w1, -b / w1], [-e, e])
        else:
            self._boundary.set_data([], [])

    def _on_change(self, change):
        self.update()

    def close(self):
        """Close the widget and the session it holds."""
        session = getattr(self, "_session", None)  # None when __init__ failed before making it
        if session is not None:
            session.close()
        super().close()
