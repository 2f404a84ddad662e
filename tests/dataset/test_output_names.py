"""Where an annotated image lands under OUT/images: never outside it."""

from __future__ import annotations

import pytest

from enet4y2.dataset.importer import output_name


@pytest.mark.parametrize(("file", "expected"), [
    ("a/b.jpg", "a/b.jpg"), ("./d/./e.png", "d/e.png"), ("sub\\x.jpg", "sub/x.jpg"),
    ("/abs/path/y.jpg", "y.jpg"), ("../up.jpg", "up.jpg"), ("a\\..\\..\\c.jpg", "c.jpg"),
])
def test_output_names_stay_inside_the_images_folder(file, expected):
    assert output_name(file) == expected
