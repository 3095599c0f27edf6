// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-inject - inject a known amount of keyboard and pointer input through
 * one uinput device, so that tests can compare what actlogd counted with what
 * was sent. Every unit is a whole frame terminated by SYN_REPORT, shaped so
 * that include/input.h counts it exactly once:
 *
 *   key     KEY_A 1, SYN; KEY_A 0, SYN             -> keys += 1
 *   click   BTN_LEFT 1, SYN; BTN_LEFT 0, SYN       -> clicks += 1
 *   move    REL_X 3, REL_Y 4, SYN                  -> moves += 1, distance += 5
 *   scroll  REL_WHEEL 1, REL_WHEEL_HI_RES 120, SYN -> scrolls += 1 (hi-res ignored)
 *   --type  one press + release per character      -> keys += strlen(TEXT)
 *
 * Order: keys, clicks, moves, scrolls, then the typed text. The device is
 * created, left alone for --settle-ms so that listeners (evdev readers, udev)
 * open it, fed, left alone again so that readers drain it, and destroyed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/input.h>
#include <linux/uinput.h>

#include "log.h"
#include "util.h"

#define INJECT_MAX_COUNT 1000000UL    /* per kind of input */
#define INJECT_MAX_TEXT 4096	      /* characters of --type */
#define INJECT_MAX_DELAY_US 10000000L /* between two frames */
#define INJECT_MAX_SETTLE_MS 60000L
#define INJECT_DEFAULT_DELAY_US 2000L /* evdev client buffers hold a few dozen events */
#define INJECT_DEFAULT_SETTLE_MS 300L

struct inject_opts {
	unsigned long keys, clicks, moves, scrolls;
	const char *text;
	long delay_us;
	long settle_ms;
	const char *name;
	__u16 bus;
	const char *uinput_path;
	int json;
};

/* What was injected so far (reported even after a failure). */
struct inject_done {
	unsigned long keys, clicks, moves, scrolls, typed;
};

static const char *const usage_text =
    "usage: actlog-inject [--keys K] [--clicks C] [--moves M] [--scrolls S]\n"
    "                     [--type TEXT] [--delay-us N] [--name NAME] [--bus usb|virtual]\n"
    "                     [--settle-ms MS] [--device PATH] [--json]\n"
    "Creates one uinput device and injects K key presses (KEY_A), C left clicks,\n"
    "M moves (REL_X 3 + REL_Y 4: length 5 each), S scroll ticks (REL_WHEEL 1 with\n"
    "its hi-res twin 120), then one key press per letter, digit or space of TEXT.\n"
    "Defaults: --delay-us 2000 between frames, --settle-ms 300 after creation and\n"
    "before destruction, --name actlog-inject, --bus virtual, --device /dev/uinput.\n";

/* Linux key code of a --type character, 0 when it has none. Upper case maps
 * to the same key as lower case (no shift is sent). */
static int char_keycode(unsigned char ch)
{
	static const unsigned short letters[26] = {
	    KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
	    KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
	    KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
	};

	if (ch >= 'a' && ch <= 'z')
		return letters[ch - 'a'];
	if (ch >= 'A' && ch <= 'Z')
		return letters[ch - 'A'];
	if (ch >= '1' && ch <= '9')
		return KEY_1 + (ch - '1');
	if (ch == '0')
		return KEY_0;
	if (ch == ' ')
		return KEY_SPACE;
	if (ch == '\n')
		return KEY_ENTER;
	return 0;
}

/* Parse a decimal number in [0, max] (parse_uint). 0 or -EINVAL / -ERANGE. */
static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;
	int r = parse_uint(s, 0, max, &v);

	if (!r)
		*out = (unsigned long)v;
	return r;
}

/* Sleep for us microseconds, resuming after signals. */
static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Write n events as one frame. 0 or -errno. */
static int emit(int fd, const struct input_event *ev, size_t n)
{
	const char *p = (const char *)ev;
	size_t left = n * sizeof(*ev);
	ssize_t w;

	while (left > 0) {
		w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		left -= (size_t)w;
	}
	return 0;
}

static struct input_event ev(__u16 type, __u16 code, __s32 value)
{
	struct input_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.code = code;
	e.value = value;
	return e;
}

/* Press and release one key or button: two frames. 0 or -errno. */
static int press(int fd, __u16 code, long delay_us)
{
	struct input_event down[2] = {ev(EV_KEY, code, 1), ev(EV_SYN, SYN_REPORT, 0)};
	struct input_event up[2] = {ev(EV_KEY, code, 0), ev(EV_SYN, SYN_REPORT, 0)};
	int err;

	err = emit(fd, down, 2);
	if (err)
		return err;
	if (delay_us)
		sleep_us(delay_us);
	err = emit(fd, up, 2);
	if (!err && delay_us)
		sleep_us(delay_us);
	return err;
}

static int set_bit_ioctl(int fd, unsigned long req, int bit)
{
	return ioctl(fd, req, bit) < 0 ? -errno : 0;
}

/*
 * Open the uinput node and create the device. Returns the fd (owned by the
 * caller; closing it destroys the device) or -errno.
 */
static int device_create(const struct inject_opts *o)
{
	static const int rels[] = {
	    REL_X, REL_Y, REL_WHEEL, REL_HWHEEL, REL_WHEEL_HI_RES, REL_HWHEEL_HI_RES};
	static const int buttons[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE};
	struct uinput_setup setup;
	int fd, err = 0;
	size_t i;
	int c;

	fd = open(o->uinput_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = set_bit_ioctl(fd, UI_SET_EVBIT, EV_SYN);
	if (!err)
		err = set_bit_ioctl(fd, UI_SET_EVBIT, EV_KEY);
	if (!err)
		err = set_bit_ioctl(fd, UI_SET_EVBIT, EV_REL);
	/* every key --type can send: letters, digits, space, enter */
	for (c = 0; !err && c < 256; c++) {
		int code = char_keycode((unsigned char)c);

		if (code)
			err = set_bit_ioctl(fd, UI_SET_KEYBIT, code);
	}
	for (i = 0; !err && i < sizeof(buttons) / sizeof(buttons[0]); i++)
		err = set_bit_ioctl(fd, UI_SET_KEYBIT, buttons[i]);
	for (i = 0; !err && i < sizeof(rels) / sizeof(rels[0]); i++)
		err = set_bit_ioctl(fd, UI_SET_RELBIT, rels[i]);
	if (err)
		goto fail;

	memset(&setup, 0, sizeof(setup));
	setup.id.bustype = o->bus;
	setup.id.vendor = 0xac71;
	setup.id.product = 0x0001;
	setup.id.version = 1;
	snprintf(setup.name, sizeof(setup.name), "%s", o->name);
	if (ioctl(fd, UI_DEV_SETUP, &setup) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

/* Inject everything o asks for into fd, counting into *done. 0 or -errno. */
static int inject_all(int fd, const struct inject_opts *o, struct inject_done *done)
{
	struct input_event move[3] = {ev(EV_REL, REL_X, 3), ev(EV_REL, REL_Y, 4),
				      ev(EV_SYN, SYN_REPORT, 0)};
	struct input_event scroll[3] = {ev(EV_REL, REL_WHEEL, 1), ev(EV_REL, REL_WHEEL_HI_RES, 120),
					ev(EV_SYN, SYN_REPORT, 0)};
	const unsigned char *p;
	int err;

	for (; done->keys < o->keys; done->keys++) {
		err = press(fd, KEY_A, o->delay_us);
		if (err)
			return err;
	}
	for (; done->clicks < o->clicks; done->clicks++) {
		err = press(fd, BTN_LEFT, o->delay_us);
		if (err)
			return err;
	}
	for (; done->moves < o->moves; done->moves++) {
		err = emit(fd, move, 3);
		if (err)
			return err;
		if (o->delay_us)
			sleep_us(o->delay_us);
	}
	for (; done->scrolls < o->scrolls; done->scrolls++) {
		err = emit(fd, scroll, 3);
		if (err)
			return err;
		if (o->delay_us)
			sleep_us(o->delay_us);
	}
	for (p = (const unsigned char *)(o->text ? o->text : ""); *p; p++) {
		err = press(fd, (__u16)char_keycode(*p), o->delay_us);
		if (err)
			return err;
		done->typed++;
	}
	return 0;
}

/* Print s as a JSON string body (no quotes). */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

/* Report a failure once: JSON on stdout in --json mode, a log line otherwise. */
static void report_error(int json, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_error(int json, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json) {
		fputs("{\"error\":\"", stdout);
		json_escape(stdout, msg);
		fputs("\"}\n", stdout);
	} else {
		log_err("%s", msg);
	}
}

static void print_done(const struct inject_opts *o, const struct inject_done *d)
{
	if (o->json)
		printf(
		    "{\"keys\":%lu,\"clicks\":%lu,\"moves\":%lu,\"scrolls\":%lu,\"typed\":%lu}\n",
		    d->keys, d->clicks, d->moves, d->scrolls, d->typed);
	else
		printf("injected keys=%lu clicks=%lu moves=%lu scrolls=%lu typed=%lu\n", d->keys,
		       d->clicks, d->moves, d->scrolls, d->typed);
}

/* Parse argv into o. 0, 1 for --help, or -EINVAL after reporting. */
static int parse_args(int argc, char **argv, struct inject_opts *o)
{
	enum {
		O_KEYS = 256,
		O_CLICKS,
		O_MOVES,
		O_SCROLLS,
		O_TYPE,
		O_DELAY,
		O_NAME,
		O_BUS,
		O_SETTLE,
		O_DEVICE,
		O_JSON,
		O_HELP
	};
	static const struct option longopts[] = {
	    {"keys", required_argument, NULL, O_KEYS},
	    {"clicks", required_argument, NULL, O_CLICKS},
	    {"moves", required_argument, NULL, O_MOVES},
	    {"scrolls", required_argument, NULL, O_SCROLLS},
	    {"type", required_argument, NULL, O_TYPE},
	    {"delay-us", required_argument, NULL, O_DELAY},
	    {"name", required_argument, NULL, O_NAME},
	    {"bus", required_argument, NULL, O_BUS},
	    {"settle-ms", required_argument, NULL, O_SETTLE},
	    {"device", required_argument, NULL, O_DEVICE},
	    {"json", no_argument, NULL, O_JSON},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	const char *p;
	int i, c;

	/* --json changes how errors look, so find it before anything can fail */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			o->json = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long *count = NULL;
		int err;

		switch (c) {
		case O_KEYS:
			count = &o->keys;
			break;
		case O_CLICKS:
			count = &o->clicks;
			break;
		case O_MOVES:
			count = &o->moves;
			break;
		case O_SCROLLS:
			count = &o->scrolls;
			break;
		case O_TYPE:
			if (strlen(optarg) > INJECT_MAX_TEXT) {
				report_error(o->json, "--type: text longer than %d characters",
					     INJECT_MAX_TEXT);
				return -EINVAL;
			}
			for (p = optarg; *p; p++) {
				if (!char_keycode((unsigned char)*p)) {
					report_error(
					    o->json,
					    "--type: character %ld (0x%02x) is not a letter, "
					    "digit, space or newline",
					    (long)(p - optarg), (unsigned char)*p);
					return -EINVAL;
				}
			}
			o->text = optarg;
			break;
		case O_DELAY:
			err = parse_ulong(optarg, INJECT_MAX_DELAY_US, &v);
			if (err) {
				report_error(o->json, "--delay-us: '%s' is not a number in 0..%ld",
					     optarg, INJECT_MAX_DELAY_US);
				return -EINVAL;
			}
			o->delay_us = (long)v;
			break;
		case O_SETTLE:
			err = parse_ulong(optarg, INJECT_MAX_SETTLE_MS, &v);
			if (err) {
				report_error(o->json, "--settle-ms: '%s' is not a number in 0..%ld",
					     optarg, INJECT_MAX_SETTLE_MS);
				return -EINVAL;
			}
			o->settle_ms = (long)v;
			break;
		case O_NAME:
			if (!*optarg || strlen(optarg) >= UINPUT_MAX_NAME_SIZE) {
				report_error(o->json, "--name: must be 1..%d characters",
					     UINPUT_MAX_NAME_SIZE - 1);
				return -EINVAL;
			}
			o->name = optarg;
			break;
		case O_BUS:
			if (!strcmp(optarg, "usb")) {
				o->bus = BUS_USB;
			} else if (!strcmp(optarg, "virtual")) {
				o->bus = BUS_VIRTUAL;
			} else {
				report_error(o->json, "--bus: '%s' is neither usb nor virtual",
					     optarg);
				return -EINVAL;
			}
			break;
		case O_DEVICE:
			o->uinput_path = optarg;
			break;
		case O_JSON:
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 1;
		default:
			report_error(o->json, "unknown or incomplete option '%s' (see --help)",
				     argv[optind - 1]);
			return -EINVAL;
		}
		if (count) {
			err = parse_ulong(optarg, INJECT_MAX_COUNT, count);
			if (err) {
				report_error(o->json, "--%s: '%s' is not a number in 0..%lu",
					     longopts[c - O_KEYS].name, optarg, INJECT_MAX_COUNT);
				return -EINVAL;
			}
		}
	}
	if (optind < argc) {
		report_error(o->json, "unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct inject_opts o = {
	    .delay_us = INJECT_DEFAULT_DELAY_US,
	    .settle_ms = INJECT_DEFAULT_SETTLE_MS,
	    .name = "actlog-inject",
	    .bus = BUS_VIRTUAL,
	    .uinput_path = "/dev/uinput",
	};
	struct inject_done done = {0};
	int fd, err;

	log_init("actlog-inject", LOG_LVL_INFO);
	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;

	fd = device_create(&o);
	if (fd < 0) {
		err = fd;
		if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
			report_error(o.json,
				     "%s: %s: the uinput kernel module is not loaded "
				     "(modprobe uinput) or the kernel lacks CONFIG_INPUT_UINPUT",
				     o.uinput_path, strerror(-err));
		else if (err == -EACCES || err == -EPERM)
			report_error(o.json,
				     "%s: %s: injecting input needs root (or write access "
				     "to the uinput device)",
				     o.uinput_path, strerror(-err));
		else
			report_error(o.json, "cannot create a uinput device through %s: %s",
				     o.uinput_path, strerror(-err));
		return 1;
	}
	sleep_us(o.settle_ms * 1000);
	err = inject_all(fd, &o, &done);
	if (!err)
		sleep_us(o.settle_ms * 1000);
	if (ioctl(fd, UI_DEV_DESTROY) < 0 && !err)
		err = -errno;
	close(fd);
	if (err) {
		report_error(o.json,
			     "injection failed after keys=%lu clicks=%lu moves=%lu scrolls=%lu "
			     "typed=%lu: %s",
			     done.keys, done.clicks, done.moves, done.scrolls, done.typed,
			     strerror(-err));
		return 1;
	}
	print_done(&o, &done);
	return fflush(stdout) == 0 ? 0 : 1;
}
