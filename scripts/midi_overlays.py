#!/usr/bin/env python3
"""Seeded MIDI overlays for the sample recipe (docs/sample-model.md): drum
patterns, bass lines and chord progressions as Standard MIDI Files, for
fluidsynth to render with fluid-soundfont-gm (scripts/overlays.sh).

    midi_overlays.py --seed N --count K --out DIR

writes DIR/{drums,bass,chords}-NNN.mid, K of each, about 10 s apiece.  The
same seed gives the same bytes (Python's random.Random is seeded, nothing
else is random)."""
import argparse
import os
import random
import struct

TPQ = 480  # ticks per quarter note
SIXTEENTH = TPQ // 4


def vlq(n):
    """MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def smf(events, bpm):
    """events: (tick, bytes) pairs; returns a format-0 file."""
    track = bytearray()
    track += vlq(0) + b"\xff\x51\x03" + struct.pack(">I", round(60e6 / bpm))[1:]
    now = 0
    for tick, data in sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80)):
        track += vlq(tick - now) + data
        now = tick
    track += vlq(TPQ) + b"\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, TPQ) +
            b"MTrk" + struct.pack(">I", len(track)) + bytes(track))


def note(events, ch, start, length, pitch, vel):
    events.append((start, bytes([0x90 | ch, pitch, vel])))
    events.append((start + length, bytes([0x80 | ch, pitch, 0])))


def bars_for(bpm, seconds=10.0):
    return max(2, round(seconds * bpm / 240.0))


def drums(rng):
    bpm = rng.randint(70, 170)
    events = []
    kick = [rng.random() < p for p in (0.9, 0.1, 0.2, 0.1, 0.3, 0.1, 0.4, 0.2) * 2]
    snare = [i % 8 == 4 or rng.random() < 0.08 for i in range(16)]
    hat = [rng.random() < (0.9 if i % 2 == 0 else 0.5) for i in range(16)]
    hat_note = rng.choice((42, 42, 46, 51))  # closed hat, open hat, ride
    snare_note = rng.choice((38, 38, 39, 40))  # snare, clap, electric snare
    for bar in range(bars_for(bpm)):
        for i in range(16):
            t = (bar * 16 + i) * SIXTEENTH
            if kick[i]:
                note(events, 9, t, SIXTEENTH, 36, rng.randint(90, 120))
            if snare[i]:
                note(events, 9, t, SIXTEENTH, snare_note, rng.randint(80, 115))
            if hat[i]:
                note(events, 9, t, SIXTEENTH, hat_note, rng.randint(50, 90))
    return smf(events, bpm)


def progression(rng):
    key = rng.randint(0, 11)
    degrees = rng.choice(([0, 5, 7, 0], [0, 9, 5, 7], [0, 7, 9, 5], [2, 7, 0, 0], [9, 5, 0, 7]))
    return key, degrees


def bass(rng):
    bpm = rng.randint(70, 160)
    key, degrees = progression(rng)
    events = [(0, bytes([0xC0, rng.randint(32, 39)]))]  # GM basses
    rhythm = [rng.random() < p for p in (1, 0.2, 0.6, 0.3, 0.8, 0.2, 0.6, 0.4)]
    for bar in range(bars_for(bpm)):
        root = 36 + (key + degrees[bar % 4]) % 12
        for i in range(8):
            if rhythm[i]:
                pitch = root + (12 if rng.random() < 0.15 else 7 if rng.random() < 0.15 else 0)
                note(events, 0, (bar * 8 + i) * 2 * SIXTEENTH, 2 * SIXTEENTH - 20, pitch,
                     rng.randint(80, 115))
    return smf(events, bpm)


def chords(rng):
    bpm = rng.randint(60, 140)
    key, degrees = progression(rng)
    program = rng.choice((0, 2, 4, 16, 19, 24, 48, 50, 52, 88, 89, 91))
    events = [(0, bytes([0xC0, program]))]
    per_bar = rng.choice((1, 2, 4))
    for bar in range(bars_for(bpm)):
        root = 48 + (key + degrees[bar % 4]) % 12
        minor = degrees[bar % 4] in (2, 4, 9)
        voicing = [0, 3 if minor else 4, 7] + ([10 if minor else 11] if rng.random() < 0.3 else [])
        for k in range(per_bar):
            start = bar * 4 * TPQ + k * (4 * TPQ // per_bar)
            for v in voicing:
                note(events, 0, start, 4 * TPQ // per_bar - 30, root + v, rng.randint(60, 100))
    return smf(events, bpm)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 1 <= a.count <= 1000:
        ap.error("--count is 1 .. 1000")
    os.makedirs(a.out, exist_ok=True)
    for kind, make in (("drums", drums), ("bass", bass), ("chords", chords)):
        rng = random.Random(f"{a.seed}-{kind}")
        for i in range(a.count):
            with open(os.path.join(a.out, f"{kind}-{i:03d}.mid"), "wb") as f:
                f.write(make(rng))


if __name__ == "__main__":
    main()
