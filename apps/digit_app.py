"""The "draw a digit" app: a canvas to draw on, LeNet-5's prediction and its class probabilities.

    from digit_app import DigitApp
    DigitApp()          # as the last line of a cell, displays the app (apps/draw_a_digit.ipynb)

The canvas only shows the strokes; the app keeps the points itself and rasterises them in Python
(`digits.strokes_to_mnist`), so the prediction never waits for the browser to send pixels back.
A prediction is made when a stroke ends (mouse button or finger lifted, or the pointer leaving the canvas).
"""

import html
import io

import digits
import numpy as np

BAR_COLOUR, TOP_COLOUR = "#9db4d3", "#1f5fa8"


def probability_table(probabilities):
    """HTML: one row per class with a bar as long as its probability, the most likely class highlighted."""
    best = int(np.argmax(probabilities))
    rows = []
    for digit, p in enumerate(probabilities):
        colour = TOP_COLOUR if digit == best else BAR_COLOUR
        rows.append(
            f"<tr class='digit-row' data-digit='{digit}' data-probability='{p:.4f}'>"
            f"<td style='width:1.5em;font-weight:bold'>{digit}</td>"
            f"<td style='width:220px'><div style='background:{colour};height:14px;"
            f"width:{max(1, 220 * p):.0f}px'>"
            f"</div></td><td style='text-align:right'>{100 * p:.1f}%</td></tr>")
    return ("<table class='digit-probabilities' style='border-collapse:collapse;font-size:13px'>"
            + "".join(rows) + "</table>")


def preview_png(image, scale=4):
    """The 28 x 28 image the network sees, enlarged `scale` times, as PNG bytes."""
    from PIL import Image

    pixels = np.uint8(np.clip(image, 0, 1) * 255)
    picture = Image.fromarray(pixels).resize((28 * scale, 28 * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class DigitApp:
    """The app's widgets and callbacks, with `model` (a `digits.DigitModel`) or the one restored from
    `checkpoint`. `stroke(points)` draws a stroke from Python (tests, demos)."""

    def __init__(self, model=None, checkpoint=digits.CHECKPOINT):
        import ipywidgets as widgets
        from ipycanvas import Canvas

        self.strokes = []
        self._drawing = False
        self.model = None
        self.message = widgets.HTML()
        try:
            self.model = model if model is not None else digits.DigitModel(checkpoint)
        except (OSError, ValueError) as exc:  # a missing or unreadable checkpoint: say so, no traceback
            self.message.value = ("<p style='color:#b00'>The digit model could not be loaded: "
                                  f"{html.escape(str(exc))}</p>")

        size = digits.CANVAS_SIZE
        # The black paper is the canvas's CSS background: nothing is drawn before the page shows the canvas
        # (draw commands sent before the browser is connected are lost, and ipycanvas would not resend the
        # pen settings), so the pen is set up at the first stroke.
        layout = widgets.Layout(width=f"{size}px", height=f"{size}px", border="2px solid #666")
        self.canvas = Canvas(width=size, height=size, layout=layout)
        self.canvas.add_class("digit-canvas")
        self._pen_ready = False
        self.canvas.on_client_ready(self._on_client_ready)
        self.canvas.on_mouse_down(self._on_down)
        self.canvas.on_mouse_move(self._on_move)
        self.canvas.on_mouse_up(self._on_up)
        self.canvas.on_mouse_out(self._on_up)
        self.canvas.on_touch_start(lambda touches: self._on_down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: self._on_move(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self._on_up(0, 0))

        self.clear_button = widgets.Button(description="Clear", icon="eraser", tooltip="Start a new digit")
        self.clear_button.on_click(lambda _button: self.clear())
        self.prediction = widgets.HTML()
        self.table = widgets.HTML()
        self.preview = widgets.Image(format="png", width=112, height=112)
        self.preview.layout.border = "1px solid #999"
        self._show(None)
        paper = widgets.HTML("<style>.digit-canvas, .digit-canvas canvas { background: black; }</style>"
                             "<b>Draw one digit (0-9) with the mouse</b>")
        left = widgets.VBox([paper, self.canvas,
                             self.clear_button])
        sees = widgets.HTML("<b>What the network sees</b> (28 x 28, like MNIST)")
        right = widgets.VBox([self.prediction, self.table, sees, self.preview, self.message],
                             layout=widgets.Layout(margin="0 0 0 24px"))
        self.widget = widgets.HBox([left, right])

    # -- drawing -------------------------------------------------------------------------------------

    def _on_client_ready(self):
        self._pen_ready = False
        self._redraw()

    def _pen(self):
        if not self._pen_ready:
            self.canvas.fill_style = "white"
            self.canvas.stroke_style = "white"
            self.canvas.line_width = digits.PEN_WIDTH
            self.canvas.line_cap = "round"
            self.canvas.line_join = "round"
            self._pen_ready = True

    def _redraw(self):
        """Draw every stroke again (for a browser that connects to a running app)."""
        if not self.strokes:
            return
        self._pen()
        for stroke in self.strokes:
            self.canvas.fill_arc(*stroke[0], digits.PEN_WIDTH / 2, 0, 2 * np.pi)
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
                self.canvas.stroke_line(x0, y0, x1, y1)

    def _on_down(self, x, y):
        self._pen()
        self._drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_arc(x, y, digits.PEN_WIDTH / 2, 0, 2 * np.pi)

    def _on_move(self, x, y):
        if not self._drawing:
            return
        last_x, last_y = self.strokes[-1][-1]
        self.strokes[-1].append((x, y))
        self.canvas.stroke_line(last_x, last_y, x, y)

    def _on_up(self, x, y):
        if self._drawing:
            self._drawing = False
            self.predict()

    def stroke(self, points):
        """Draw one stroke through `points` [(x, y), ...] in canvas pixels, then predict."""
        from ipycanvas import hold_canvas

        with hold_canvas():
            self._on_down(*points[0])
            for point in points[1:]:
                self._on_move(*point)
        self._on_up(*points[-1])

    def clear(self):
        """Wipe the canvas and the prediction."""
        self.strokes = []
        self._drawing = False
        self.canvas.clear()
        self._show(None)

    # -- predicting ----------------------------------------------------------------------------------

    def predict(self):
        """Run the network on the strokes so far and show its answer; returns the probabilities."""
        image = digits.strokes_to_mnist(self.strokes)
        if image is None or self.model is None:
            self._show(None)
            return None
        try:
            probabilities = self.model.probabilities(image)
        except Exception as exc:  # show it in the app: an exception in a callback would vanish
            self.message.value = f"<p style='color:#b00'>{type(exc).__name__}: {html.escape(str(exc))}</p>"
            return None
        self._show(probabilities, image)
        return probabilities

    def _show(self, probabilities, image=None):
        if probabilities is None:
            self.prediction.value = ("<div class='digit-prediction' data-digit='' style='font-size:20px'>"
                                     "Draw a digit to see what LeNet-5 reads.</div>")
            self.table.value = probability_table(np.zeros(10))
            self.preview.value = preview_png(np.zeros((28, 28)))
            return
        best = int(np.argmax(probabilities))
        self.prediction.value = (
            f"<div class='digit-prediction' data-digit='{best}' style='font-size:20px'>LeNet-5 reads "
            f"<span style='font-size:40px;font-weight:bold;color:{TOP_COLOUR}'>{best}</span> "
            f"({100 * probabilities[best]:.1f}% sure)</div>")
        self.table.value = probability_table(probabilities)
        self.preview.value = preview_png(image)
        self.message.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
