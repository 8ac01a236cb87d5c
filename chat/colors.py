"""The site's colour, turned into the colours the visitor's page needs: the text on
it (WCAG AA, 4.5:1) and shades of it readable as text on the page's light and dark
surfaces. Plain functions of a "#rrggbb" string; static/chat/appearance-admin.js
picks the text colour by the same rule for the admin's preview.
"""

from __future__ import annotations

AA = 4.5  # contrast of normal text, WCAG 2.x AA
WHITE = "#ffffff"
# Tried in turn when white does not reach AA: the first that does. Black always does
# then (a colour that white fails on is light enough).
DARK_TEXTS = ("#111111", "#000000")
# The darkest of the page's light surfaces and the lightest of its dark ones
# (static/chat/visitor.css): the colour as text must read on all of them.
LIGHT_SURFACE = "#eef0f6"
DARK_SURFACE = "#23232f"


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(color: str) -> float:
    """WCAG's relative luminance of "#rrggbb"."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mix(color: str, other: str, amount: float) -> str:
    """``color`` with ``amount`` (0 to 1) of ``other`` mixed in."""
    (r, g, b), (r2, g2, b2) = _rgb(color), _rgb(other)
    return _hex((r + (r2 - r) * amount, g + (g2 - g) * amount, b + (b2 - b) * amount))


def text_color(background: str) -> str:
    """White when it reaches AA on ``background``, else the first dark text that
    does."""
    if contrast(WHITE, background) >= AA:
        return WHITE
    for dark in DARK_TEXTS:
        if contrast(dark, background) >= AA:
            return dark
    return DARK_TEXTS[-1]


def readable_on(color: str, surface: str, *, toward: str) -> str:
    """``color`` mixed toward ``toward`` (black or white) in small steps until it
    reads as text on ``surface`` (AA)."""
    step = 0
    shade = color
    while contrast(shade, surface) < AA and step < 20:
        step += 1
        shade = mix(color, toward, step / 20)
    return shade


def theme(color: str) -> dict[str, dict[str, str]]:
    """The page's custom properties for ``color``, for the light and the dark scheme
    (names without their leading "--")."""
    text = text_color(color)
    # Hovering moves away from the text's own lightness: the contrast only grows.
    hover = mix(color, "#000000" if text == WHITE else WHITE, 0.12)
    meta = f"rgba({', '.join(map(str, _rgb(text)))}, 0.85)"
    if contrast(mix(color, text, 0.85), color) < AA:
        meta = text
    shared = {
        "primary": color,
        "primary-hover": hover,
        "primary-text": text,
        "visitor-meta": meta,
    }
    return {
        "light": {
            **shared,
            "primary-fg": readable_on(color, LIGHT_SURFACE, toward="#000000"),
            "read": "#a5f3fc" if text == WHITE else "#0c4a6e",
        },
        "dark": {
            **shared,
            "primary-fg": readable_on(color, DARK_SURFACE, toward=WHITE),
            "read": "#67e8f9" if text == WHITE else "#0c4a6e",
        },
    }


def theme_css(color: str) -> str:
    """``theme(color)`` as a style sheet that follows static/chat/visitor.css."""
    schemes = theme(color)

    def block(values: dict[str, str]) -> str:
        return ":root {\n" + "".join(f"  --{k}: {v};\n" for k, v in values.items())

    return (
        f"/* The site's colour {color} (chat.colors). */\n"
        + block(schemes["light"])
        + "}\n@media (prefers-color-scheme: dark) {\n"
        + block(schemes["dark"])
        + "}\n}\n"
    )
