"""The Voila apps served by `make apps`, in a real browser: each loads without code or errors and
answers an interaction (a drawn stroke changes the prediction; editing the kernel changes the picture;
styling produces an image)."""

import numpy as np
import pytest

from tests.browser.helpers import screenshot, wait_for, wait_until_answers

pytestmark = pytest.mark.slow

APP_NAMES = ("draw_a_digit", "convolution_explorer", "style_a_photo")


@pytest.fixture(scope="module")
def apps_url(apps_server):
    """The URL `make apps` printed, once it answers."""
    url = apps_server.url()
    wait_until_answers(url)
    return url


def test_make_apps_lists_the_three_apps(page, apps_url):
    page.goto(apps_url)
    for name in APP_NAMES:
        page.get_by_text(f"{name}.ipynb", exact=True).wait_for()
    screenshot(page, "voila_apps_home")
    assert not page.errors, page.errors


def open_app(page, apps_url, name, ready_selector):
    """Open app `name` and wait until `ready_selector` shows; checks that no code and no error is shown."""
    page.goto(f"{apps_url}voila/render/{name}.ipynb")
    page.wait_for_selector(ready_selector, timeout=120_000)
    assert_clean(page, name)


def assert_clean(page, name):
    text = page.inner_text("body")
    for marker in ("Traceback", "There was an error when executing cell", "import "):
        assert marker not in text, f"{name} shows {marker!r}:\n{text[:2000]}"
    code = page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-editor")
    assert code.count() == 0, f"{name} shows code"
    assert not page.errors, page.errors


# -- draw a digit -------------------------------------------------------------------------------------


def draw(page, points):
    """Drag the mouse through `points` (canvas pixels) on the app's canvas, as a person draws."""
    box = page.locator("canvas").first.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=3)
    page.mouse.up()


def predicted_digit(page):
    return page.get_attribute(".digit-prediction", "data-digit")


def test_draw_a_digit_predicts_what_is_drawn(page, apps_url):
    open_app(page, apps_url, "draw_a_digit", ".digit-prediction")
    page.wait_for_selector("canvas")
    assert predicted_digit(page) == "", "a prediction before anything was drawn"

    angles = np.linspace(0, 2 * np.pi, 40)
    ring = [(140 + 65 * np.sin(a), 140 - 95 * np.cos(a)) for a in angles]
    draw(page, ring)
    wait_for(lambda: predicted_digit(page) != "", 60, "a prediction after drawing a ring")
    first = predicted_digit(page)
    screenshot(page, "voila_draw_a_digit_ring")

    page.get_by_role("button", name="Clear").click()
    wait_for(lambda: predicted_digit(page) == "", 30, "Clear to remove the prediction")
    draw(page, [(145, 40), (140, 140), (135, 240)])
    wait_for(lambda: predicted_digit(page) != "", 60, "a prediction after drawing a line")
    second = predicted_digit(page)
    screenshot(page, "voila_draw_a_digit_line")

    assert (first, second) == ("0", "1"), f"read a ring as {first} and a vertical line as {second}"
    rows = page.locator(".digit-row")
    assert rows.count() == 10
    probabilities = [float(rows.nth(i).get_attribute("data-probability")) for i in range(10)]
    assert abs(sum(probabilities) - 1) < 0.01 and max(probabilities) == probabilities[1]

    draw(page, [(55, 44), (150, 40)])  # a bar across the top of the line: now it is a 7
    wait_for(lambda: predicted_digit(page) != "1", 60, "the prediction to change after one more stroke")
    screenshot(page, "voila_draw_a_digit_seven")
    assert predicted_digit(page) == "7"
    assert_clean(page, "draw_a_digit")


# -- convolution explorer -----------------------------------------------------------------------------


def picture(page):
    """The explorer's rendered picture: the PNG of the image element as the browser shows it."""
    return page.locator(".widget-image").first.screenshot()


def test_convolution_explorer_redraws_when_the_kernel_is_edited(page, apps_url):
    open_app(page, apps_url, "convolution_explorer", ".widget-image")
    image = page.locator(".widget-image").first
    wait_for(lambda: image.evaluate("img => img.naturalWidth") > 100, 60, "the explorer's first picture")
    before = picture(page)
    source = image.get_attribute("src")

    centre = page.locator(".widget-text input").nth(4)  # the middle of the 3 x 3 kernel
    centre.fill("8")
    centre.press("Enter")
    wait_for(lambda: image.get_attribute("src") != source, 60, "a new picture after editing the kernel")
    wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth > 100"), 30, "the new picture")
    assert picture(page) != before, "the picture looks the same after the kernel changed"
    screenshot(page, "voila_convolution_explorer_edited_kernel")

    source = image.get_attribute("src")
    page.locator("select").nth(1).select_option(label="photo bridge")
    wait_for(lambda: image.get_attribute("src") != source, 60, "the picture to change with another image")
    assert_clean(page, "convolution_explorer")


# -- style a photo ------------------------------------------------------------------------------------


def test_style_a_photo_produces_an_image(page, apps_url, tmp_path):
    from PIL import Image

    open_app(page, apps_url, "style_a_photo", ".styled-result")
    result = page.locator("img.styled-result")
    assert result.evaluate("img => img.naturalWidth") == 0, "a result before styling"
    photos = page.locator(".widget-image:not(.styled-result)")
    shown = "img => img.naturalWidth > 0"
    wait_for(lambda: photos.count() >= 2 and all(photos.nth(i).evaluate(shown) for i in range(2)), 60,
             "the photo and the painting")

    # Upload a photo of our own: a sunset gradient 96 x 64, which becomes the photo to style.
    rows = np.linspace(0, 1, 64)[:, None, None]
    sunset = np.uint8(255 * np.concatenate([np.broadcast_to(rows, (64, 96, 1)),
                                            np.broadcast_to(0.4 + 0 * rows, (64, 96, 1)),
                                            np.broadcast_to(1 - rows, (64, 96, 1))], axis=2))
    upload = tmp_path / "sunset.png"
    Image.fromarray(sunset).save(upload)
    with page.expect_file_chooser() as chooser:
        page.locator(".widget-upload").click()
    chooser.value.set_files(str(upload))
    photo_list = page.locator("select").first
    wait_for(lambda: photo_list.input_value() == "my upload", 30, "the uploaded photo to be chosen")
    wait_for(lambda: photos.first.evaluate("img => img.naturalWidth") == 96, 30, "the uploaded preview")

    page.get_by_role("button", name="Style it").click()
    wait_for(lambda: result.evaluate("img => img.complete && img.naturalWidth") > 0, 300, "the styled image")
    result.scroll_into_view_if_needed()
    screenshot(page, "voila_style_a_photo_result")
    notes = page.locator(".style-note").all_inner_texts()
    assert notes and ("Gatys" in notes[0] or "fast network" in notes[0]), notes
    assert page.locator(".style-error").count() == 0, page.locator(".style-error").all_inner_texts()
    assert_clean(page, "style_a_photo")
