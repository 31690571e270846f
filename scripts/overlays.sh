#!/usr/bin/env bash
# Overlay material for the sample recipe (docs/sample-model.md): seeded MIDI
# drum patterns, bass lines and chord progressions (scripts/midi_overlays.py)
# rendered by fluidsynth with fluid-soundfont-gm, both allowed by
# ../shared/data/corpus.md.
#
#   scripts/overlays.sh           install, render into $SAMPLEID_DATA/overlays,
#                                 check data/overlays.tsv against what is there
#   scripts/overlays.sh --write   (re)write data/overlays.tsv
#
# The manifest is the noise manifest's format, split by file into "train"
# (what `overlay_manifest` in a sample-recipe config loads) and "test".
set -euo pipefail
. "$(dirname "$0")/common.sh"

DATA=${SAMPLEID_DATA:-/var/lib/sampleid-corpus}
SEED=${SAMPLEID_OVERLAY_SEED:-20261201}
COUNT=${SAMPLEID_OVERLAY_COUNT:-40}
SOUNDFONT=/usr/share/sounds/sf2/FluidR3_GM.sf2
WRITE=0
[ "${1:-}" = "--write" ] && WRITE=1

DEB_PACKAGES=(fluidsynth fluid-soundfont-gm python3)
install_deps
build_all

out=$DATA/overlays/midi-rendered
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
python3 "$REPO/scripts/midi_overlays.py" --seed "$SEED" --count "$COUNT" --out "$tmp/mid"
log "rendering $((3 * COUNT)) MIDI files into $out"
for mid in "$tmp"/mid/*.mid; do
	wav=$out/$(basename "${mid%.mid}").wav
	# kept when present: a trainer may be reading it
	[ -s "$wav" ] && continue
	fluidsynth -ni -q -g 0.6 -r 16000 -F "$wav.tmp.wav" "$SOUNDFONT" "$mid" >/dev/null
	mv "$wav.tmp.wav" "$wav"
done

version=$(dpkg-query -W -f='${Version}' fluid-soundfont-gm)
synth=$(dpkg-query -W -f='${Version}' fluidsynth)
{
	echo "# pg_sampleid overlays; made by scripts/overlays.sh (midi_overlays.py --seed $SEED --count $COUNT)"
	echo "# packages: fluid-soundfont-gm=$version fluidsynth=$synth"
	(cd "$DATA/overlays" && find midi-rendered -name '*.wav' | LC_ALL=C sort |
		sed 's/^/fluid-soundfont-gm\t/') |
		"$REPO/build/sampleid" manifest --root "$DATA/overlays" --prefix overlays/ --seed "$SEED" \
			--decode-check --splits test=0.25,train
} > "$tmp/overlays.tsv"
if [ "$WRITE" = 1 ]; then
	cp "$tmp/overlays.tsv" "$REPO/data/overlays.tsv"
	log "wrote data/overlays.tsv ($(grep -vc '^#' "$REPO/data/overlays.tsv") lines)"
elif ! cmp -s "$tmp/overlays.tsv" "$REPO/data/overlays.tsv"; then
	die "data/overlays.tsv differs from the rendered overlays (run with --write to remake it)"
fi
