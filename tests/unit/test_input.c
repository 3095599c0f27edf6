// SPDX-License-Identifier: BSD-2-Clause
/* The input classification table and frame accounting (include/input.h),
 * shared by the BPF program and the evdev fallback. */
#include <linux/input-event-codes.h>
#include <linux/input.h>

#include "check.h"
#include "input.h"

struct row {
	unsigned int type, code;
	int value;
	enum input_class want;
};

TEST(constants_match_the_kernel)
{
	CHECK_EQ(AL_EV_SYN, EV_SYN);
	CHECK_EQ(AL_EV_KEY, EV_KEY);
	CHECK_EQ(AL_EV_REL, EV_REL);
	CHECK_EQ(AL_EV_ABS, EV_ABS);
	CHECK_EQ(AL_REL_X, REL_X);
	CHECK_EQ(AL_REL_Y, REL_Y);
	CHECK_EQ(AL_REL_WHEEL, REL_WHEEL);
	CHECK_EQ(AL_REL_HWHEEL, REL_HWHEEL);
	CHECK_EQ(AL_ABS_X, ABS_X);
	CHECK_EQ(AL_ABS_Y, ABS_Y);
	CHECK_EQ(AL_BTN_MISC, BTN_MISC);
	CHECK_EQ(AL_BTN_DIGI, BTN_DIGI);
	CHECK_EQ(AL_BTN_WHEEL, BTN_WHEEL);
	CHECK_EQ(AL_KEY_OK, KEY_OK);
	CHECK_EQ(AL_BTN_TRIGGER_HAPPY, BTN_TRIGGER_HAPPY);
	CHECK_EQ(AL_BTN_TRIGGER_HAPPY40, BTN_TRIGGER_HAPPY40);
	CHECK_EQ(AL_KEY_MAX, KEY_MAX);
	CHECK_EQ(AL_BTN_TOUCH, BTN_TOUCH);
	CHECK_EQ(AL_BUS_VIRTUAL, BUS_VIRTUAL);
	CHECK_EQ(AL_SYN_REPORT, SYN_REPORT);
}

TEST(classification_table)
{
	static const struct row rows[] = {
	    {EV_KEY, KEY_A, 1, IC_KEY},
	    {EV_KEY, KEY_A, 0, IC_NONE},  /* release */
	    {EV_KEY, KEY_A, 2, IC_NONE},  /* autorepeat */
	    {EV_KEY, KEY_ESC, 1, IC_KEY}, /* first key */
	    {EV_KEY, KEY_RESERVED, 1, IC_NONE},
	    {EV_KEY, KEY_MICMUTE, 1, IC_KEY}, /* last of the first range */
	    {EV_KEY, KEY_OK, 1, IC_KEY},
	    {EV_KEY, KEY_MACRO1, 1, IC_KEY},
	    {EV_KEY, BTN_LEFT, 1, IC_CLICK},
	    {EV_KEY, BTN_RIGHT, 1, IC_CLICK},
	    {EV_KEY, BTN_MIDDLE, 1, IC_CLICK},
	    {EV_KEY, BTN_LEFT, 0, IC_NONE},
	    {EV_KEY, BTN_0, 1, IC_CLICK},
	    {EV_KEY, BTN_SOUTH, 1, IC_CLICK}, /* gamepad */
	    {EV_KEY, BTN_TRIGGER, 1, IC_CLICK},
	    {EV_KEY, BTN_TRIGGER_HAPPY1, 1, IC_CLICK},
	    {EV_KEY, BTN_TOOL_FINGER, 1, IC_NONE}, /* tool indicators are not clicks */
	    {EV_KEY, BTN_TOUCH, 1, IC_NONE},
	    {EV_KEY, BTN_TOUCH, 0, IC_TOUCH_UP},
	    {EV_KEY, BTN_GEAR_DOWN, 1, IC_NONE},
	    {EV_REL, REL_X, 5, IC_REL_X},
	    {EV_REL, REL_Y, -5, IC_REL_Y},
	    {EV_REL, REL_WHEEL, 1, IC_SCROLL},
	    {EV_REL, REL_WHEEL, -2, IC_SCROLL},
	    {EV_REL, REL_HWHEEL, 1, IC_SCROLL},
	    {EV_REL, REL_WHEEL, 0, IC_NONE},
	    {EV_REL, REL_WHEEL_HI_RES, 120, IC_NONE}, /* hi-res twins are ignored */
	    {EV_REL, REL_HWHEEL_HI_RES, 120, IC_NONE},
	    {EV_REL, REL_DIAL, 1, IC_NONE},
	    {EV_ABS, ABS_X, 100, IC_ABS_X},
	    {EV_ABS, ABS_Y, 100, IC_ABS_Y},
	    {EV_ABS, ABS_PRESSURE, 10, IC_NONE},
	    {EV_ABS, ABS_MT_POSITION_X, 10, IC_NONE},
	    {EV_SYN, SYN_REPORT, 0, IC_SYN},
	    {EV_SYN, SYN_DROPPED, 0, IC_NONE},
	    {EV_MSC, MSC_SCAN, 0x1e, IC_NONE},
	    {EV_LED, LED_CAPSL, 1, IC_NONE},
	    {EV_REP, REP_DELAY, 250, IC_NONE},
	};
	unsigned int i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum input_class got = input_classify(rows[i].type, rows[i].code, rows[i].value);

		if (got != rows[i].want)
			printf("  row %u: type %u code %#x value %d: got %d want %d\n", i,
			       rows[i].type, rows[i].code, rows[i].value, got, rows[i].want);
		CHECK_EQ(got, rows[i].want);
	}
}

TEST(every_key_code_classifies_as_key_click_or_nothing)
{
	unsigned int code;
	int keys = 0, clicks = 0;

	for (code = 0; code <= KEY_MAX; code++) {
		enum input_class c = input_classify(EV_KEY, code, 1);

		CHECK(c == IC_KEY || c == IC_CLICK || c == IC_NONE);
		keys += c == IC_KEY;
		clicks += c == IC_CLICK;
	}
	CHECK(keys > 400);
	CHECK_EQ(clicks, (BTN_DIGI - BTN_MISC) + (BTN_TRIGGER_HAPPY40 - BTN_TRIGGER_HAPPY + 1));
}

static void feed(struct input_frame *f, struct input_counts *c, unsigned type, unsigned code,
		 int value)
{
	input_account(f, c, input_classify(type, code, value), value);
}

TEST(motion_frames_and_distance)
{
	struct input_frame f = {0};
	struct input_counts c = {0};
	int i;

	for (i = 0; i < 10; i++) { /* 10 frames of (3, 4): length 5 each */
		feed(&f, &c, EV_REL, REL_X, 3);
		feed(&f, &c, EV_REL, REL_Y, 4);
		feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	}
	CHECK_EQ(c.moves, 10);
	CHECK_EQ(c.distance, 50);
	feed(&f, &c, EV_REL, REL_X, -7); /* x only */
	feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	feed(&f, &c, EV_SYN, SYN_REPORT, 0); /* empty frame: not a move */
	CHECK_EQ(c.moves, 11);
	CHECK_EQ(c.distance, 57);
	feed(&f, &c, EV_REL, REL_X, 30000); /* large: no overflow */
	feed(&f, &c, EV_REL, REL_Y, 40000);
	feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(c.distance, 57 + 50000);
	CHECK_EQ(c.keys + c.clicks + c.scrolls, 0);
}

TEST(absolute_motion_uses_deltas_and_forgets_on_lift)
{
	struct input_frame f = {0};
	struct input_counts c = {0};

	feed(&f, &c, EV_ABS, ABS_X, 100); /* first contact: position only */
	feed(&f, &c, EV_ABS, ABS_Y, 100);
	feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	feed(&f, &c, EV_ABS, ABS_X, 106);
	feed(&f, &c, EV_ABS, ABS_Y, 108);
	feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(c.moves, 2);
	CHECK_EQ(c.distance, 10);
	feed(&f, &c, EV_KEY, BTN_TOUCH, 0); /* lift, land far away */
	feed(&f, &c, EV_ABS, ABS_X, 900);
	feed(&f, &c, EV_ABS, ABS_Y, 900);
	feed(&f, &c, EV_SYN, SYN_REPORT, 0);
	CHECK_EQ(c.moves, 3);
	CHECK_EQ(c.distance, 10);
}

TEST(keys_clicks_scrolls_and_activity)
{
	struct input_frame f = {0};
	struct input_counts c = {0};

	CHECK_EQ(input_account(&f, &c, input_classify(EV_KEY, KEY_Q, 1), 1), 1);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_KEY, KEY_Q, 0), 0), 0);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_KEY, KEY_Q, 2), 2), 0);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_KEY, BTN_LEFT, 1), 1), 1);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_REL, REL_WHEEL, -3), -3), 1);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_REL, REL_WHEEL_HI_RES, -360), -360), 0);
	CHECK_EQ(input_account(&f, &c, input_classify(EV_SYN, SYN_REPORT, 0), 0), 0);
	CHECK_EQ(c.keys, 1);
	CHECK_EQ(c.clicks, 1);
	CHECK_EQ(c.scrolls, 3);
	CHECK_EQ(c.moves, 0);
}

TEST(isqrt)
{
	unsigned long long v;

	CHECK_EQ(input_isqrt(0), 0);
	CHECK_EQ(input_isqrt(1), 1);
	CHECK_EQ(input_isqrt(24), 4);
	CHECK_EQ(input_isqrt(25), 5);
	CHECK_EQ(input_isqrt(26), 5);
	CHECK_EQ(input_isqrt(~0ULL), 4294967295ULL);
	for (v = 1; v < 100000; v += 7) {
		unsigned long long r = input_isqrt(v);

		CHECK(r * r <= v && (r + 1) * (r + 1) > v);
	}
}

int main(void)
{
	RUN(constants_match_the_kernel);
	RUN(classification_table);
	RUN(every_key_code_classifies_as_key_click_or_nothing);
	RUN(motion_frames_and_distance);
	RUN(absolute_motion_uses_deltas_and_forgets_on_lift);
	RUN(keys_clicks_scrolls_and_activity);
	RUN(isqrt);
	return CHECK_DONE();
}
