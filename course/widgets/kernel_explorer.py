"""The kernel explorer: edit a 3x3 convolution kernel and see what it does to an image.

    from course.widgets.kernel_explorer import kernel_explorer
    kernel_explorer(tf, {"bridge": gray_photo, "digit": digit})

Nine number boxes hold the kernel; a preset list fills them with a classic kernel (Sobel, Laplacian,
blur, sharpen, identity); a second list picks the image. The picture shows the input, the feature map
`tf.nn.conv2d(image, kernel, strides 1, SAME)` and that map max-pooled 2x2 with stride 2.

The graph is built once, with placeholders for the image and the kernel, and then finalized: every edit
only feeds new values to the same three ops, so the graph never grows however long you play.
"""

import io

import numpy as np

PRESETS = {
    "Sobel y (horizontal edges)": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "Sobel x (vertical edges)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Laplacian (all edges)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "blur (box average)": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}
"""The kernels the preset list offers, as 3x3 nested lists (rows top to bottom)."""

_LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def as_gray_image(image):
    """`image` as a float32 [H, W] array: accepts [H, W], [H, W, 1], [1, H, W, 1], an RGB [H, W, 3]
    (turned to gray with the usual luminance weights) or a flat square image such as an MNIST row."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3 and array.shape[-1] == 3:
        array = array @ _LUMINANCE
    elif array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    elif array.ndim == 1 and int(np.sqrt(array.size)) ** 2 == array.size:
        side = int(np.sqrt(array.size))
        array = array.reshape(side, side)
    if array.ndim != 2:
        raise ValueError(f"expected a gray or RGB image ([H, W], [H, W, 1], [1, H, W, 1] or [H, W, 3]), "
                         f"got shape {np.shape(image)}")
    return np.ascontiguousarray(array)


class KernelExplorer:
    """The explorer's graph, its session runs and its widgets (`.widget`); displays as the widget.

    `compute(kernel, image_name)` runs the graph without any widget, for tests and scripts.
    """

    def __init__(self, tf, images, preset="Sobel y (horizontal edges)"):
        if not images:
            raise ValueError("kernel_explorer needs at least one image, e.g. {'digit': digit}")
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESETS)}")
        self.tf = tf
        self.images = {str(name): as_gray_image(image) for name, image in images.items()}
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.image = tf.placeholder(tf.float32, [1, None, None, 1], name="image")
            self.kernel = tf.placeholder(tf.float32, [3, 3], name="kernel")
            filters = tf.reshape(self.kernel, [3, 3, 1, 1], name="filters")
            self.feature_map = tf.nn.conv2d(self.image, filters, strides=[1, 1, 1, 1], padding="SAME",
                                            name="feature_map")
            self.pooled = tf.nn.max_pool(self.feature_map, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                         padding="VALID", name="pooled")
        self.graph.finalize()
        self._preset = preset
        self._updating = False
        self.widget = None
        self._build_widgets()

    def compute(self, kernel, image_name):
        """Run the graph: (input [H, W], feature map [H, W], pooled map [H/2, W/2]) as NumPy arrays."""
        image = self.images[image_name]
        kernel = np.asarray(kernel, dtype=np.float32).reshape(3, 3)
        feed = {self.image: image[None, :, :, None], self.kernel: kernel}
        with self.tf.Session(graph=self.graph) as sess:
            feature_map, pooled = sess.run([self.feature_map, self.pooled], feed_dict=feed)
        return image, feature_map[0, :, :, 0], pooled[0, :, :, 0]

    def render_png(self, kernel, image_name):
        """The three panels (input, feature map, pooled map) as PNG bytes."""
        from matplotlib.figure import Figure

        image, feature_map, pooled = self.compute(kernel, image_name)
        height, width = image.shape
        figure = Figure(figsize=(11, min(6.0, max(2.4, 11 / 3 * height / width + 1.0))), layout="constrained")
        axes = figure.subplots(1, 3)
        panels = [
            (image, f"input {image_name} {image.shape[0]}x{image.shape[1]}"),
            (feature_map, f"feature map (conv2d, SAME) {feature_map.shape[0]}x{feature_map.shape[1]}"),
            (pooled, f"2x2 max-pooled {pooled.shape[0]}x{pooled.shape[1]}"),
        ]
        for ax, (values, title) in zip(axes, panels):
            # Colour limits from the inside: SAME's zero padding can put a strong edge all along the frame.
            inside = values[1:-1, 1:-1] if min(values.shape) > 4 else values
            ax.imshow(values, cmap="gray", vmin=inside.min(), vmax=inside.max(), interpolation="nearest")
            ax.set_title(f"{title}\nvalues {values.min():.3g} .. {values.max():.3g}", fontsize=10)
            ax.axis("off")
        figure.suptitle(f"Kernel explorer: {self._describe(kernel)}")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _describe(self, kernel):
        kernel = np.asarray(kernel, dtype=np.float64).reshape(3, 3)
        for name, values in PRESETS.items():
            if np.allclose(kernel, values, atol=1e-4):
                return f"{name}, weights sum to {kernel.sum():.3g}"
        return f"custom kernel, weights sum to {kernel.sum():.3g}"

    # -- widgets -------------------------------------------------------------------------------------

    def _build_widgets(self):
        import ipywidgets as widgets

        self.cells = [widgets.FloatText(value=float(v), step=0.1, layout=widgets.Layout(width="72px"))
                      for row in PRESETS[self._preset] for v in row]
        grid = widgets.GridBox(self.cells, layout=widgets.Layout(
            grid_template_columns="repeat(3, 76px)", grid_gap="3px"))
        self.preset_list = widgets.Dropdown(options=list(PRESETS), value=self._preset, description="preset")
        self.image_list = widgets.Dropdown(options=list(self.images), description="image")
        self.picture = widgets.Image(format="png")
        self.message = widgets.HTML()
        for cell in self.cells:
            cell.observe(self._on_edit, names="value")
        self.preset_list.observe(self._on_preset, names="value")
        self.image_list.observe(self._on_edit, names="value")
        controls = widgets.VBox([widgets.HTML("<b>3x3 kernel</b> (edit any number)"), grid,
                                 self.preset_list, self.image_list, self.message])
        self.widget = widgets.VBox([controls, self.picture])
        self.refresh()

    def current_kernel(self):
        """The kernel in the nine boxes, as a float32 [3, 3] array."""
        return np.array([cell.value for cell in self.cells], dtype=np.float32).reshape(3, 3)

    def set_kernel(self, kernel):
        """Write `kernel` ([3, 3]) into the boxes and redraw once."""
        values = np.asarray(kernel, dtype=np.float64).reshape(9)
        self._updating = True
        try:
            for cell, value in zip(self.cells, values):
                cell.value = float(value)
        finally:
            self._updating = False
        self.refresh()

    def refresh(self):
        """Recompute and redraw with the current kernel and image; errors go to the message line."""
        try:
            self.picture.value = self.render_png(self.current_kernel(), self.image_list.value)
            self.message.value = ""
        except Exception as exc:  # show the problem in the widget; a callback's exception would vanish
            self.message.value = f"<span style='color:#b00'>{type(exc).__name__}: {exc}</span>"

    def _on_edit(self, change):
        if not self._updating:
            self.refresh()

    def _on_preset(self, change):
        self.set_kernel(PRESETS[change["new"]])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def kernel_explorer(tf, images, preset="Sobel y (horizontal edges)"):
    """An interactive 3x3 kernel explorer over `images` (a dict name -> image), running on engine `tf`.

    Shows the input, `tf.nn.conv2d` with the kernel (SAME, stride 1) and the 2x2 max-pooled feature map.
    Returns a `KernelExplorer`; as the last line of a cell it displays its widget.
    """
    return KernelExplorer(tf, images, preset=preset)
