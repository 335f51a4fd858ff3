# ansi2png.py: renders a `tmux capture-pane -e -p` dump (ANSI SGR colours) to a PNG, one cell per character; used by scripts/screenshot.sh.
"""Usage: ansi2png.py IN.ansi OUT.png [--cols N] [--rows N] [--font TTF] [--size PX]

Honours SGR 0/1/2/3/4/7/22/23/24/27, 30-37/90-97/38;5;N/38;2;R;G;B/39 and the
background equivalents. Draws on a dark background; wide characters take two cells.
"""

import argparse
import re
import unicodedata

from PIL import Image, ImageDraw, ImageFont

BG = (24, 25, 33)
FG = (220, 223, 228)
# A dark-theme 16-colour palette (close to many terminals' defaults).
PALETTE16 = [
    (40, 42, 54), (231, 76, 76), (80, 200, 120), (230, 190, 80),
    (90, 150, 240), (200, 110, 220), (80, 200, 210), (200, 204, 212),
    (110, 114, 128), (255, 110, 110), (120, 230, 150), (250, 215, 110),
    (130, 180, 255), (225, 145, 245), (120, 225, 235), (245, 246, 250),
]


def xterm256(n):
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.dim = False
        self.italic = False
        self.underline = False
        self.reverse = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        ps = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(ps):
            p = ps[i]
            if p == 0:
                self.reset()
            elif p == 1:
                self.bold = True
            elif p == 2:
                self.dim = True
            elif p == 3:
                self.italic = True
            elif p == 4:
                self.underline = True
            elif p == 7:
                self.reverse = True
            elif p == 22:
                self.bold = self.dim = False
            elif p == 23:
                self.italic = False
            elif p == 24:
                self.underline = False
            elif p == 27:
                self.reverse = False
            elif 30 <= p <= 37:
                self.fg = PALETTE16[p - 30]
            elif 90 <= p <= 97:
                self.fg = PALETTE16[p - 90 + 8]
            elif p == 39:
                self.fg = None
            elif 40 <= p <= 47:
                self.bg = PALETTE16[p - 40]
            elif 100 <= p <= 107:
                self.bg = PALETTE16[p - 100 + 8]
            elif p == 49:
                self.bg = None
            elif p in (38, 48) and i + 1 < len(ps):
                if ps[i + 1] == 5 and i + 2 < len(ps):
                    col = xterm256(ps[i + 2])
                    i += 2
                elif ps[i + 1] == 2 and i + 4 < len(ps):
                    col = tuple(ps[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if p == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1


SEQ = re.compile(r"\x1b\[([0-9;:]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b.")


def parse(text, cols, rows):
    grid = [[(" ", Style()) for _ in range(cols)] for _ in range(rows)]
    style = Style()
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        pos = 0
        while pos < len(line):
            m = SEQ.match(line, pos)
            if m:
                if m.group(2) == "m":
                    style.apply(m.group(1).replace(":", ";"))
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\r" or x >= cols:
                continue
            wide = unicodedata.east_asian_width(ch) in ("W", "F")
            grid[y][x] = (ch, style.copy())
            x += 1
            if wide and x < cols:
                grid[y][x] = ("", style.copy())
                x += 1
        # tmux keeps the style across lines in capture output only until the next SGR.
    return grid


def render(grid, out, font_path, size):
    regular = ImageFont.truetype(font_path, size)
    bold_path = font_path.replace(".ttf", "-Bold.ttf")
    try:
        bold = ImageFont.truetype(bold_path, size)
    except OSError:
        bold = regular
    try:
        italic = ImageFont.truetype(font_path.replace(".ttf", "-Oblique.ttf"), size)
    except OSError:
        italic = regular
    ascent, descent = regular.getmetrics()
    cw = round(regular.getlength("M"))
    ch = ascent + descent + 2
    pad = 14
    rows, cols = len(grid), len(grid[0])
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(grid):
        for x, (c, s) in enumerate(row):
            fg = s.fg or FG
            bg = s.bg
            if s.bold and s.fg in PALETTE16[:8]:
                fg = PALETTE16[PALETTE16.index(s.fg) + 8]
            if s.dim:
                base = bg or BG
                fg = tuple((a + b) // 2 for a, b in zip(fg, base))
            if s.reverse:
                fg, bg = (bg or BG), fg
            px, py = pad + x * cw, pad + y * ch
            if bg is not None:
                w = cw * (2 if c and unicodedata.east_asian_width(c) in ("W", "F") else 1)
                draw.rectangle([px, py, px + w - 1, py + ch - 1], fill=bg)
            if c and c != " ":
                font = bold if s.bold else (italic if s.italic else regular)
                draw.text((px, py + 1), c, font=font, fill=fg)
            if s.underline:
                draw.line([px, py + ch - 2, px + cw - 1, py + ch - 2], fill=fg)
    img.save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--cols", type=int, default=110)
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--font", default="/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    ap.add_argument("--size", type=int, default=15)
    a = ap.parse_args()
    with open(a.input, encoding="utf-8") as f:
        text = f.read()
    render(parse(text, a.cols, a.rows), a.output, a.font, a.size)


if __name__ == "__main__":
    main()
