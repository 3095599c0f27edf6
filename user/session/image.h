/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * image.h - the pure half of screenshots: an 8-bit RGB image, conversion
 * from an X11 ZPixmap (user/session/image.c), a separable box blur (user/session/blur.c) and
 * encoding: PNG with libpng (user/session/png.c), WebP with libwebp
 * (user/session/webp.c), JPEG with libjpeg-turbo (user/session/jpeg.c), one entry
 * image_encode(). No I/O: callers pass buffers, so unit tests feed them
 * fixtures.
 */
#ifndef ACTLOG_IMAGE_H
#define ACTLOG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "session_proto.h"

/* Caps on one image (one monitor): 16384 pixels a side and 40 M pixels in
 * all (an 8K monitor is 7680x4320 = 33 M). Larger geometries are refused
 * with -E2BIG, never allocated. */
#define IMAGE_MAX_DIM 16384u
#define IMAGE_MAX_PIXELS (40u * 1024 * 1024)
/* The largest blur radius (pixels). */
#define IMAGE_MAX_BLUR 255u

/* The encodings of a screenshot (include/session_proto.h). PNG is exact;
 * JPEG is lossy with a quality of IMAGE_QUALITY_MIN..IMAGE_QUALITY_MAX (PNG
 * ignores it); WebP is exact for screens of few colours and lossy at that
 * quality for the others (webp_encode()).
 * WebP's format caps a side at IMAGE_WEBP_MAX_DIM pixels. */
#define IMAGE_FMT_ENUM(id, name, type, ext) IMAGE_##id,
enum image_fmt { SESSION_SHOT_FORMATS(IMAGE_FMT_ENUM) IMAGE_FMT_N };
#undef IMAGE_FMT_ENUM
#define IMAGE_QUALITY_MIN 1u
#define IMAGE_QUALITY_MAX 100u
#define IMAGE_WEBP_MAX_DIM 16383u

/* Packed RGB, 3 bytes a pixel, rows of w * 3 bytes, top row first. */
struct image {
	uint32_t w, h;
	uint8_t *px; /* malloc'd; owned by the image */
};

/* How an X server lays out a ZPixmap: bits per pixel (16, 24 or 32), the
 * byte order of a pixel (msb_first: the most significant byte comes
 * first), the bytes from one row to the next (scanline padding included)
 * and the visual's channel masks. */
struct image_xfmt {
	uint8_t bpp;
	uint8_t msb_first;
	uint32_t stride;
	uint32_t red_mask, green_mask, blue_mask;
};

/* 0 when w x h is within the caps, -EINVAL for an empty image, -E2BIG
 * over them. */
int image_check_size(uint32_t w, uint32_t h);

/* Convert a w x h ZPixmap (data, len bytes, laid out as f says) into out
 * (out->px malloc'd; free with image_free). Channels narrower than 8 bits
 * are scaled to 0..255, wider ones truncated. -EINVAL for a format it
 * does not know or a buffer shorter than stride * h, -E2BIG over the caps,
 * -ENOMEM. Pure. */
int image_from_zpixmap(struct image *out, const uint8_t *data, size_t len, uint32_t w, uint32_t h,
		       const struct image_xfmt *f);

/* Blur img in place with a box of (2 * radius + 1)^2 pixels: one
 * horizontal and one vertical pass of a running sum, so the cost is
 * O(w * h) whatever the radius; edges repeat the border pixel. A uniform
 * area wider than the box keeps its colour exactly. radius 0 leaves img
 * as is. -EINVAL for a radius over IMAGE_MAX_BLUR, -ENOMEM. */
int image_blur(struct image *img, unsigned int radius);

/* Encode img as an 8-bit RGB PNG into a malloc'd buffer (*out, *outlen;
 * the caller frees it). -EINVAL for an empty or over-cap image, -ENOMEM,
 * -EIO when libpng fails. */
int png_encode(const struct image *img, uint8_t **out, size_t *outlen);

/* The number of distinct colours in img, counting up to limit: limit + 1
 * means "more than limit" (the scan stops there). limit is capped at
 * IMAGE_COLOURS_MAX; 0 for an image without pixels. A run of one colour
 * costs a compare a pixel, so a screen of flat areas is counted in a few
 * ms; the set lives on the stack (32 KiB). Pure. */
#define IMAGE_COLOURS_MAX 2048u
unsigned int image_colours(const struct image *img, unsigned int limit);

/* A screen of at most this many distinct colours (text and UI: flat
 * areas, grey-scale anti-aliased glyphs) is encoded as lossless WebP;
 * above it (photographs, gradients, video) as lossy WebP. On the 1080p
 * bench screens dense terminal text has 661 colours, the desktop with a
 * wallpaper and photographs 13 127. With a photograph pasted into the
 * text, libwebp 1.2.4's lossless method 1 took 35 ms at 1 357 colours
 * and 273 ms at 2 035, hence the margin; sub-pixel anti-aliased text
 * (2 132 colours) would be fast but stays lossy (docs/PERFORMANCE.md,
 * "Screenshots"). */
#define IMAGE_WEBP_LOSSLESS_COLOURS 1024u

/* Whether libwebp's lossless encoder at method 1 would choose spatial
 * prediction for img, which has colours distinct colours: an estimate of
 * the bits of its pixels with and without predicting each from the one
 * before it, as libwebp 1.2 makes it (src/enc/vp8l_enc.c,
 * AnalyzeEntropy). Smooth gradients predict; text and flat UI do not.
 * Its predictor search is what makes method 1 slow. Pure. */
int webp_predicts(const struct image *img, unsigned int colours);

/* How webp_encode() encodes img: lossy when it has more than
 * IMAGE_WEBP_LOSSLESS_COLOURS colours; else lossless, at method 1, or
 * at method 0 (fast) when webp_predicts(). Pure. */
enum image_webp_mode { IMAGE_WEBP_LOSSY, IMAGE_WEBP_LOSSLESS, IMAGE_WEBP_LOSSLESS_FAST };
enum image_webp_mode webp_mode(const struct image *img);

/* Encode img as WebP (libwebp, RGB) into a malloc'd buffer (*out,
 * *outlen; the caller frees it) as webp_mode() says: lossless (exact,
 * VP8L) or lossy (VP8, method 0) at quality 1..100;
 * quality is checked in both cases but only the lossy encoding uses it.
 * -EINVAL for an empty image or a quality out of range, -E2BIG over the
 * caps (also over IMAGE_WEBP_MAX_DIM a side), -ENOMEM, -EIO when libwebp
 * fails. */
int webp_encode(const struct image *img, unsigned int quality, uint8_t **out, size_t *outlen);

/* Encode img as a baseline JPEG (libjpeg-turbo, 4:2:0, quality 1..100)
 * into a malloc'd buffer (*out, *outlen; the caller frees it). Errors as
 * webp_encode() (-EIO: libjpeg-turbo failed). */
int jpeg_encode(const struct image *img, unsigned int quality, uint8_t **out, size_t *outlen);

/* Encode img as fmt (quality for WebP and JPEG; PNG ignores it but it
 * must still be in range): the encoder's result, or -EINVAL for an
 * unknown fmt or a quality out of range. */
int image_encode(enum image_fmt fmt, unsigned int quality, const struct image *img, uint8_t **out,
		 size_t *outlen);

/* Decode buf as fmt into 8-bit RGB (out->px malloc'd): each library's own
 * decoder (libpng, WebPDecodeRGB, tjDecompress2). For tests and checks.
 * -EINVAL when it is not such an image, -E2BIG over the caps, -ENOMEM. */
int image_decode(enum image_fmt fmt, const uint8_t *buf, size_t len, struct image *out);

/* A format's name ("png", "webp", "jpeg"), file extension ("png", "webp",
 * "jpg") and media type ("image/png", ...); NULL for an unknown fmt. */
const char *image_fmt_name(enum image_fmt fmt);
const char *image_fmt_ext(enum image_fmt fmt);
const char *image_fmt_type(enum image_fmt fmt);
/* The format named s ("png", "webp", "jpeg"; also "jpg"), or -EINVAL. */
int image_fmt_parse(const char *s);

/* Decode a PNG (any colour type) into 8-bit RGB (out->px malloc'd). For
 * tests and checks. -EINVAL when it is not a PNG libpng reads, -E2BIG over
 * the caps, -ENOMEM. */
int png_decode(const uint8_t *buf, size_t len, struct image *out);

/* Decode a WebP (WebPDecodeRGB) or a JPEG (tjDecompress2) into 8-bit RGB,
 * as png_decode() does a PNG. */
int webp_decode(const uint8_t *buf, size_t len, struct image *out);
int jpeg_decode(const uint8_t *buf, size_t len, struct image *out);

/* Free img->px; accepts NULL and an empty image. */
void image_free(struct image *img);

#endif /* ACTLOG_IMAGE_H */
