#!/usr/bin/python3
"""pngcheck.py - decode 8-bit RGB PNGs with the standard library only (zlib)
and compare them with the pattern tests/pattern.c draws.

  pngcheck.py pattern PNG MON_X MON_Y  WIN_X WIN_Y WIN_W WIN_H [...]
      every pixel of each window (root coordinates) matches the pattern
      exactly, and the rest of the monitor is black; prints "ok N" (pixels)
  pngcheck.py blur PNG MON_X MON_Y  WIN_X WIN_Y WIN_W WIN_H RADIUS SHARP_PNG
      pixels farther than RADIUS from any edge are exact, the edge between
      red and green is smeared, each region keeps its mean colour (within
      what a box of RADIUS lets in from its neighbours: 24 of 255) and the
      monitor's mean colour is that of SHARP_PNG (within 0.5)
  pngcheck.py same PNG PNG      the two decode to the same pixels
  pngcheck.py pattern-near IMG MON_X MON_Y MAX  WIN_X WIN_Y WIN_W WIN_H [...]
      as pattern, for a lossy capture decoded to PNG or PPM: a mean
      absolute difference of at most MAX (of 255) on each channel
  pngcheck.py near IMG REF MAX  IMG (a lossy capture decoded to PNG or a
      binary PPM, as dwebp and djpeg write) has REF's size and a mean
      absolute difference from it of at most MAX (of 255) on each channel;
      prints "ok" and the three means
Exit 1 with a message on the first mismatch.
"""
import struct
import sys
import zlib


def decode_ppm(path, data):
    # binary PPM (P6, maxval 255): "P6 W H 255" then RGB rows
    fields, pos = [], 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(int(data[pos:end]))
        pos = end
    w, h, maxval = fields
    if maxval != 255:
        sys.exit(f"{path}: PPM maxval {maxval}, not 255")
    out = bytearray(data[pos + 1:pos + 1 + w * h * 3])
    if len(out) != w * h * 3:
        sys.exit(f"{path}: PPM cut short")
    return w, h, out


def decode(path):
    data = open(path, "rb").read()
    if data[:2] == b"P6":
        return decode_ppm(path, data)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(typ + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            sys.exit(f"{path}: bad CRC in {typ}")
        if typ == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype != 2 or interlace:
                sys.exit(f"{path}: not 8-bit RGB non-interlaced")
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * 3
    out = bytearray(stride * h)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(3, stride):
                line[i] = (line[i] + line[i - 3]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                a = line[i - 3] if i >= 3 else 0
                line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - 3] if i >= 3 else 0
                b = prev[i]
                c = prev[i - 3] if i >= 3 else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        elif f != 0:
            sys.exit(f"{path}: bad filter {f}")
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, out


def pattern(x, y, W, H):
    if y >= H - 32:
        return (x % 256, 255 - x % 256, 128)
    top = (H - 32) // 2
    if y < top:
        return (255, 0, 0) if x < W // 2 else (0, 255, 0)
    return (0, 0, 255) if x < W // 2 else (255, 255, 0)


def px(img, x, y):
    w, _, d = img
    i = (y * w + x) * 3
    return tuple(d[i:i + 3])


def main():
    mode = sys.argv[1]
    if mode == "same":
        a, b = decode(sys.argv[2]), decode(sys.argv[3])
        if a != b:
            sys.exit("the images differ")
        print("ok")
        return
    if mode == "near":
        (w, h, a), (rw, rh, b) = decode(sys.argv[2]), decode(sys.argv[3])
        if (w, h) != (rw, rh):
            sys.exit(f"{w}x{h}, the reference is {rw}x{rh}")
        means = [sum(abs(x - y) for x, y in zip(a[c::3], b[c::3])) / (w * h) for c in range(3)]
        if any(m > float(sys.argv[4]) for m in means):
            sys.exit(f"mean differences {means}, more than {sys.argv[4]}")
        print("ok", means)
        return
    img = decode(sys.argv[2])
    mx, my = int(sys.argv[3]), int(sys.argv[4])
    w, h, _ = img
    if mode == "pattern-near":
        tol = float(sys.argv[5])
        wins = [tuple(map(int, sys.argv[i:i + 4])) for i in range(6, len(sys.argv), 4)]
        sums = [0, 0, 0]
        for y in range(h):
            for x in range(w):
                rx, ry = x + mx, y + my
                want = (0, 0, 0)
                for (X, Y, W, H) in wins:
                    if X <= rx < X + W and Y <= ry < Y + H:
                        want = pattern(rx - X, ry - Y, W, H)
                got = px(img, x, y)
                for c in range(3):
                    sums[c] += abs(got[c] - want[c])
        means = [v / (w * h) for v in sums]
        if any(m > tol for m in means):
            sys.exit(f"mean differences {means} from the pattern, more than {tol}")
        print("ok", means)
    elif mode == "pattern":
        wins = [tuple(map(int, sys.argv[i:i + 4])) for i in range(5, len(sys.argv), 4)]
        n = 0
        for y in range(h):
            for x in range(w):
                rx, ry = x + mx, y + my
                want = (0, 0, 0)
                for (X, Y, W, H) in wins:
                    if X <= rx < X + W and Y <= ry < Y + H:
                        want = pattern(rx - X, ry - Y, W, H)
                got = px(img, x, y)
                if got != want:
                    sys.exit(f"pixel ({x},{y}) of the monitor: got {got}, want {want}")
                n += 1
        print("ok", n)
    elif mode == "blur":
        X, Y, W, H, r = map(int, sys.argv[5:10])
        sharp = decode(sys.argv[10])
        for c in range(3):
            a = sum(img[2][c::3]) / (w * h)
            b = sum(sharp[2][c::3]) / (w * h)
            if abs(a - b) > 0.5:
                sys.exit(f"channel {c}: mean {a} blurred, {b} sharp")
        top = (H - 32) // 2
        regions = {"red": (0, 0, W // 2, top), "green": (W // 2, 0, W, top),
                   "blue": (0, top, W // 2, H - 32), "yellow": (W // 2, top, W, H - 32)}
        for name, (x0, y0, x1, y1) in regions.items():
            want = pattern(x0, y0, W, H)
            for y in range(y0 + r + 1, y1 - r - 1):
                for x in range(x0 + r + 1, x1 - r - 1):
                    if px(img, X + x - mx, Y + y - my) != want:
                        sys.exit(f"{name}: inner pixel ({x},{y}) changed")
            sums, n = [0, 0, 0], 0
            for y in range(y0, y1):
                for x in range(x0, x1):
                    p = px(img, X + x - mx, Y + y - my)
                    sums = [s + v for s, v in zip(sums, p)]
                    n += 1
            mean = [s / n for s in sums]
            if any(abs(m - v) > 24 for m, v in zip(mean, want)):
                sys.exit(f"{name}: mean {mean}, want about {want}")
        # the red/green edge, at mid-height of the red band: a mix
        p = px(img, X + W // 2 - 1 - mx, Y + top // 2 - my)
        if p in ((255, 0, 0), (0, 255, 0)) or not (p[0] > 60 and p[1] > 60):
            sys.exit(f"the red/green edge is not blurred: {p}")
        print("ok")


main()
