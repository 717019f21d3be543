"""Image captcha: a few characters, jittered and crossed by noise, as a PNG."""

import io
import secrets

from PIL import Image, ImageDraw, ImageFilter, ImageFont

WIDTH, HEIGHT = 132, 44


def _rand(low: int, high: int) -> int:
    return low + secrets.randbelow(high - low + 1)


def render_captcha(text: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    step = WIDTH // (len(text) + 1)
    for index, char in enumerate(text):
        glyph = Image.new("RGBA", (40, 44), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((6, 2), char, font=font, fill=_ink())
        glyph = glyph.rotate(_rand(-25, 25), resample=Image.Resampling.BICUBIC)
        image.paste(glyph, (step // 2 + index * step + _rand(-3, 3), _rand(-3, 3)), glyph)
    for _ in range(5):
        points = [(_rand(0, WIDTH), _rand(0, HEIGHT)) for _ in range(2)]
        draw.line(points, fill=_ink(light=True), width=1)
    for _ in range(120):
        draw.point((_rand(0, WIDTH - 1), _rand(0, HEIGHT - 1)), fill=_ink(light=True))
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _ink(light: bool = False) -> tuple[int, int, int]:
    low, high = (110, 190) if light else (20, 110)
    return (_rand(low, high), _rand(low, high), _rand(low, high))
