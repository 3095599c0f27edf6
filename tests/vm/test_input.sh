#!/usr/bin/env bash
# tests/vm/test_input.sh - actlogd counts kernel input exactly, and never
# keeps which key was pressed. One VM boot per input source (bpf, evdev);
# tests/vm/guest_input.sh drives actlogd in the guest and every assertion is
# made here, over the files that come back:
#   counting  K key presses, C clicks, M moves (length 5 each), S scroll ticks
#             through uinput; the activity records of the spool must sum to
#             exactly K, C, M, 5*M, S, all of it synthetic, active_s >= 1;
#             status must report the forced source.
#   privacy   TEXT is typed while actlogd runs; neither the spool (raw files
#             and dump), status, metrics, actlogd's -v log nor a dump of every
#             BPF map may contain TEXT or the sequence of its key codes
#             (decimal or hex, any separators, any integer width).
# Usage: tests/vm/test_input.sh [bpf|evdev ...]   (default: both)
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3 # Debian's python; the python3 on PATH may be another one
K=37 C=11 M=23 S=7
TEXT=zqxj7vkw3pm # letters and digits only; codes 44 16 45 36 8 47 37 17 4 25 50
sources=("$@")
[ ${#sources[@]} -gt 0 ] || sources=(bpf evdev)

[ -x "$PY" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null ||
	{ fail "no $PY"; finish; }
if ! make -C "$ROOT" -s BUILD="$BUILD" "$BUILD/actlogd" "$BUILD/actlogctl" "$BUILD/actlog-inject" >"$T/make.log" 2>&1; then
	fail "build actlogd, actlogctl, actlog-inject"
	tail -n 15 "$T/make.log" | sed 's/^/  /'
	finish
fi

# The verifier prints "ok NAME" or "bad NAME: detail" lines.
cat >"$T/verify.py" <<'EOF'
import json, os, re, sys

src, out, K, C, M, S, text = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7]
KEYCODES = dict(zip("qwertyuiop", range(16, 26)))
KEYCODES.update(zip("asdfghjkl", range(30, 39)))
KEYCODES.update(zip("zxcvbnm", range(44, 51)))
KEYCODES.update(zip("1234567890", range(2, 12)))
KEYCODES[" "] = 57
WIN = 5  # a leak is any 5 consecutive characters or key codes of TEXT


def ok(name, cond, detail=""):
    print(("ok %s" % name) if cond else ("bad %s: %s" % (name, detail)))


def load(path):
    try:
        with open(os.path.join(out, path)) as f:
            return f.read().strip()
    except OSError as e:
        return "<missing: %s>" % e.strerror


def load_json(path):
    try:
        return json.loads(load(path))
    except ValueError:
        return None


def activity(path):
    recs = []
    for line in load(path).splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            return None
        if r.get("type") == "activity":
            recs.append(r)
    return recs


def check_status(phase):
    st = load_json(phase + "/status-before.json")
    got = st.get("sources", {}).get("input") if isinstance(st, dict) else None
    ok("%s: status reports input source %s" % (phase, src), got == src, "sources.input = %r" % got)


def check_run(phase, want_inject):
    ok("%s: actlog-inject" % phase, load(phase + "/inject.rc") == "0",
       load(phase + "/inject.err")[-300:])
    ok("%s: actlog-inject --json" % phase, load_json(phase + "/inject.json") == want_inject,
       load(phase + "/inject.json"))
    ok("%s: actlogd exits 0 on SIGTERM" % phase, load(phase + "/actlogd.rc") == "0",
       "exit status %s" % load(phase + "/actlogd.rc"))
    ok("%s: actlogctl spool dump" % phase, load(phase + "/spool.rc") == "0",
       load(phase + "/spool.err")[-300:])
    recs = activity(phase + "/spool.ndjson")
    ok("%s: spool holds activity records" % phase, bool(recs),
       "records: %s" % ("unparsable NDJSON" if recs is None else "none"))
    return recs or []


def total(recs, key, sub=None):
    s = 0
    for r in recs:
        v = (r.get(sub) or {}).get(key) if sub else r.get(key)
        s += v if isinstance(v, (int, float)) else 0
    return s


# ---- counting ----
check_status("count")
recs = check_run("count", {"keys": K, "clicks": C, "moves": M, "scrolls": S, "typed": 0})
want = {"keys": K, "clicks": C, "moves": M, "distance": 5 * M, "scrolls": S}
for k, v in want.items():
    got = total(recs, k)
    ok("count: %s total" % k, got == v, "got %s, want %s (%d records)" % (got, v, len(recs)))
    got = total(recs, k, "synthetic")
    ok("count: synthetic %s (uinput on a USB bus id)" % k, got == v, "got %s, want %s" % (got, v))
ok("count: active_s >= 1", total(recs, "active_s") >= 1, "active_s = %s" % total(recs, "active_s"))
ok("count: synthetic active_s >= 1", total(recs, "active_s", "synthetic") >= 1,
   "synthetic.active_s = %s" % total(recs, "active_s", "synthetic"))

# ---- privacy ----
check_status("priv")
recs = check_run("priv", {"keys": 0, "clicks": 0, "moves": 0, "scrolls": 0, "typed": len(text)})
ok("priv: the typed keys were counted", total(recs, "keys") == len(text),
   "keys = %s, typed %d" % (total(recs, "keys"), len(text)))

codes = [KEYCODES[ch] for ch in text.lower()]
text_wins = {text.lower()[i:i + WIN].encode() for i in range(len(text) - WIN + 1)}
code_wins = [codes[i:i + WIN] for i in range(len(codes) - WIN + 1)]


def as_bytes(values):
    """A stream of non-negative numbers as bytes; 255 stands for anything that
    is no key code (all codes TEXT can produce are below 60)."""
    return bytes(v if v < 255 else 255 for v in values)


code_wins_b = [bytes(w) for w in code_wins]


def find_seq(stream):
    """The first window of key codes found contiguous in stream, or None."""
    for w in code_wins_b:
        if w in stream:
            return list(w)
    return None


def leaks(data):
    """What of TEXT data holds, as a list of descriptions. Zero bytes and zero
    numbers are dropped from every stream first, so u8/u16/u32/u64 arrays of
    either byte order and zero-padded dumps all reduce to the code sequence."""
    found = []
    low = data.lower()
    for w in text_wins:
        if w in low:
            found.append("text %r" % w.decode())
            break
    w = find_seq(data.replace(b"\0", b""))
    if w:
        found.append("raw bytes %s" % w)
    s = low.decode("latin-1")
    dec = []
    # decimal numbers standing alone (not inside a word or a hex token);
    # "045" is not 45
    for t in re.findall(r"(?<![0-9a-z])[0-9]+(?![0-9a-z])", s):
        if t.strip("0") == "":
            continue
        dec.append(255 if t[0] == "0" or len(t) > 3 else int(t))
    w = find_seq(as_bytes(dec))
    if w:
        found.append("decimal codes %s" % w)
    hexbytes = []
    for t in re.findall(r"(?:0x)?([0-9a-f]+)", s):
        if len(t) % 2:
            t = "0" + t
        hexbytes.extend(int(t[i:i + 2], 16) for i in range(0, len(t), 2))
    w = find_seq(bytes(b for b in hexbytes if b))
    if w:
        found.append("hex codes %s" % ["%02x" % c for c in w])
    return found


# the scanner must find what it looks for, or its silence means nothing
planted = {
    "text": ("key %s typed" % text.upper()).encode(),
    "decimal": ("[%s]" % ", ".join(str(c) for c in codes)).encode(),
    "decimal u32 dump": " ".join("%d 0 0 0" % c for c in codes).encode(),
    "hex bpftool dump": " ".join("%02x 00 00 00" % c for c in codes).encode(),
    "hex json": ",".join('"0x%02x"' % c for c in codes).encode(),
    "u16 binary": b"".join(c.to_bytes(2, "little") for c in codes),
    "u64 binary": b"".join(c.to_bytes(8, "big") for c in codes),
}
missed = [n for n, d in planted.items() if not leaks(b"\x01noise " + d + b" noise\xff")]
ok("priv: the leak scanner finds planted leaks", not missed, "missed %s" % missed)

agent = os.path.join(out, "priv", "agent")
files = [os.path.join(out, "priv", "spool.ndjson")]
for d, _, names in os.walk(agent):
    files += [os.path.join(d, n) for n in names]
scanned, found = 0, []
for f in sorted(files):
    try:
        with open(f, "rb") as fh:
            data = fh.read()
    except OSError:
        continue
    scanned += 1
    for what in leaks(data):
        found.append("%s: %s" % (os.path.relpath(f, out), what))
ok("priv: nothing the agent wrote or reported holds the typed text or its key codes",
   not found, "; ".join(found[:10]))
def present(rel):
    f = os.path.join(agent, rel)
    return os.path.isfile(f) and os.path.getsize(f) > 0


kinds = {
    "spool files": any(f.startswith(os.path.join(agent, "state") + os.sep) for f in files),
    "status": present("status.json"),
    "metrics": present("metrics.txt"),
    "actlogd log": present("actlogd.log"),
}
ok("priv: scanned spool files, status, metrics and the log (%d files)" % scanned,
   all(kinds.values()), "missing %s" % [k for k, v in kinds.items() if not v])
if src == "bpf":
    maps = load("priv/maps.txt")
    names = re.findall(r"\bname (\S+)", maps)
    ids = re.findall(r"^(\d+):", maps, re.M)
    # ring buffers have no elements to dump
    need = [i for i in ids if not re.search(r"^%s: ringbuf" % i, maps, re.M)]
    failed = [i for i in need if load("priv/map-%s.rc" % i) != "0"]
    ok("priv: every BPF map of the input program was dumped",
       "counters" in names and "frames" in names and not failed,
       "maps %s (ids %s), dump failed for %s" % (names, ids, failed))
EOF

for src in "${sources[@]}"; do
	out=$T/$src
	start=$(date +%s)
	"$ROOT/tests/vm/run.sh" --timeout 600 --out "$out" "$ROOT/tests/vm/guest_input.sh" \
		"$src" "$K" "$C" "$M" "$S" "$TEXT" >"$T/$src.stdout" 2>"$T/$src.stderr"
	rc=$?
	echo "  $src: VM boot + guest: $(($(date +%s) - start)) s"
	if [ $rc -ne 0 ]; then
		fail "$src: guest run (exit $rc)"
		sed 's/^/  /' "$T/$src.stderr" | tail -n 40
		continue
	fi
	pass "$src: guest run"
	bad=0
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "$src: ${line#ok }" ;;
		"bad "*) fail "$src: ${line#bad }"; bad=1 ;;
		*) fail "$src: verifier: $line"; bad=1 ;;
		esac
	done < <("$PY" "$T/verify.py" "$src" "$out" "$K" "$C" "$M" "$S" "$TEXT" 2>&1)
	if [ $bad -ne 0 ]; then
		for phase in count priv; do
			echo "  $src: actlogd -v log of the $phase phase, last lines:"
			tail -n 12 "$out/$phase/agent/actlogd.log" 2>/dev/null | sed 's/^/    /'
		done
	fi
done
finish
