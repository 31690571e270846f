#!/usr/bin/env bash
# The training / evaluation corpus of pg_sampleid, from Debian packages only.
#
#   scripts/corpus.sh            install the packages, lay out $SAMPLEID_DATA,
#                                render the speech noise, and check that the
#                                committed manifests match what is on disk
#   scripts/corpus.sh --write    (re)write data/manifest.tsv and data/noise.tsv
#
# $SAMPLEID_DATA (default /var/lib/sampleid-corpus) receives symbolic links to
# the installed files, the contents of the .pk3 (zip) archives and the
# rendered speech; nothing of it goes into git.  The manifests do: they are
# made by `sampleid manifest` (libsndfile durations, seeded by-track split),
# so the same packages and seed give byte-identical manifests.
# docs/corpus.md explains the packages, the split and the formats.
#
# Only the packages that ../shared/data/corpus.md allows appear here.
set -euo pipefail
. "$(dirname "$0")/common.sh"

DATA=${SAMPLEID_DATA:-/var/lib/sampleid-corpus}
SEED=${SAMPLEID_CORPUS_SEED:-20261122}
WRITE=0
[ "${1:-}" = "--write" ] && WRITE=1

MUSIC_PACKAGES=(
	wesnoth-1.16-music warzone2100-music ufoai-music nexuiz-music hyperrogue-music
	singularity-music drascula-music planetblupi-music-ogg asc-music
)
NOISE_PACKAGES=(wesnoth-1.16-data espeak-ng)

# common.sh's installer, pointed at the corpus packages
install_corpus_packages() {
	DEB_PACKAGES=("${MUSIC_PACKAGES[@]}" "${NOISE_PACKAGES[@]}" unzip sox)
	install_deps
}

# link_tree PACKAGE SRC_DIR DEST_DIR PATTERN...: symbolic links to the files of
# SRC_DIR (recursively) whose names match a pattern, under the same relative paths.
link_tree() {
	local src=$2 dest=$3 f rel
	shift 3
	local find_args=() pat
	for pat in "$@"; do find_args+=(-o -name "$pat"); done
	mkdir -p "$dest"
	while IFS= read -r -d '' f; do
		rel=${f#"$src"/}
		mkdir -p "$dest/$(dirname "$rel")"
		ln -sfn "$f" "$dest/$rel"
	done < <(find "$src" -type f \( -false "${find_args[@]}" \) -print0)
}

extract_pk3() {
	local pk3=$1 dest=$2
	mkdir -p "$dest"
	unzip -q -o "$pk3" '*.ogg' -d "$dest"
}

lay_out_music() {
	local m=$DATA/music
	rm -rf "$m"
	mkdir -p "$m"
	link_tree wesnoth-1.16-music /usr/share/games/wesnoth/1.16/data/core/music "$m/wesnoth-1.16-music" '*.ogg'
	link_tree warzone2100-music /usr/share/games/warzone2100/music "$m/warzone2100-music" '*.opus' '*.ogg'
	extract_pk3 /usr/share/games/ufoai/base/0music.pk3 "$m/ufoai-music"
	extract_pk3 /usr/share/games/nexuiz/data/music.pk3 "$m/nexuiz-music"
	link_tree hyperrogue-music /usr/share/hyperrogue/music "$m/hyperrogue-music" '*.ogg'
	link_tree singularity-music /usr/share/games/singularity/music "$m/singularity-music" '*.ogg'
	# the same 31 tracks are shipped six times; audio/ is the original set
	link_tree drascula-music /usr/share/scummvm/drascula/audio "$m/drascula-music" '*.ogg'
	link_tree planetblupi-music-ogg /usr/share/planetblupi/music "$m/planetblupi-music-ogg" '*.ogg'
	link_tree asc-music /usr/share/games/asc/music "$m/asc-music" '*.mp3'
}

# Speech noise: espeak-ng renders sentences made from fixed word lists.  The
# train and test parts use different voices and different sentences, so a
# test query never hears a voice or a sentence the model trained with.
SPEECH_WORDS=(time people year way day thing man world life hand part child eye
	woman place work week case point government company number group problem fact
	water room mother area money story month lot right study book word business
	issue side kind head house service friend father power hour game line end
	member law car city community name president team minute idea kid body
	information back parent face others level office door health person art war
	history party result change morning reason research girl guy moment air teacher
	force education river garden station market winter kitchen window letter)
SPEECH_VERBS=(said found gave told asked showed brought kept began heard played
	moved lived believed held wrote stood lost paid met sent built left carried)

speech_sentence() { # index -> a sentence, deterministic
	local i=$1 n=${#SPEECH_WORDS[@]} v=${#SPEECH_VERBS[@]}
	local a=${SPEECH_WORDS[$(( (i * 7 + 3) % n ))]} b=${SPEECH_WORDS[$(( (i * 13 + 5) % n ))]}
	local c=${SPEECH_WORDS[$(( (i * 29 + 11) % n ))]} d=${SPEECH_WORDS[$(( (i * 31 + 17) % n ))]}
	local verb=${SPEECH_VERBS[$(( (i * 5 + 1) % v ))]}
	echo "The $a $verb the $b near the $c, and every $d was there before the $a came back."
}

render_speech() {
	local dir=$DATA/noise/espeak-ng part voices i k voice speed pitch
	rm -rf "$dir"
	for part in train test; do
		mkdir -p "$dir/$part"
		if [ "$part" = train ]; then
			voices=(en en-us de fr es it nl pl pt sv)
		else
			voices=(en-gb-x-rp cs fi ro hu)
		fi
		k=0 base=0
		[ "$part" = test ] && base=1000
		for voice in "${voices[@]}"; do
			for i in 0 1 2 3; do
				# train sentences are 0..39, test sentences 1000..1019
				local idx=$((base + k))
				speed=$(( 140 + (idx * 17) % 60 ))
				pitch=$(( 30 + (idx * 23) % 40 ))
				espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$dir/$part/$(printf '%s_%02d' "$voice" "$i").wav" \
					"$(speech_sentence "$idx") $(speech_sentence $((idx + 500)))"
				k=$((k + 1))
			done
		done
	done
}

lay_out_noise() {
	local n=$DATA/noise
	rm -rf "$n/wesnoth-1.16-data"
	link_tree wesnoth-1.16-data /usr/share/games/wesnoth/1.16/data/core/sounds "$n/wesnoth-1.16-data" '*.ogg' '*.wav'
	render_speech
}

# "package<TAB>path" for every file under DIR/PACKAGE, path relative to DIR.
list_files() {
	local dir=$1 pkg
	for pkg in $(ls "$dir"); do
		(cd "$dir" && find -L "$pkg" -type f \( -name '*.ogg' -o -name '*.opus' -o -name '*.mp3' -o -name '*.wav' \) |
			LC_ALL=C sort | sed "s|^|$pkg\t|")
	done
}

# Identical files (same bytes) are kept once: the first in sorted order.
drop_duplicates() {
	local dir=$1 pkg path seen
	declare -A seen=()
	while IFS=$'\t' read -r pkg path; do
		local sum
		sum=$(sha256sum < "$dir/$path" | cut -c1-64)
		if [ -n "${seen[$sum]:-}" ]; then
			log "duplicate: $path is $(printf %s "${seen[$sum]}")"
			continue
		fi
		seen[$sum]=$path
		printf '%s\t%s\n' "$pkg" "$path"
	done
}

make_manifests() {
	local out_music=$1 out_noise=$2 cli=$REPO/build/sampleid versions
	versions=$(for p in "${MUSIC_PACKAGES[@]}" "${NOISE_PACKAGES[@]}"; do
		printf '%s=%s ' "$p" "$(dpkg-query -W -f='${Version}' "$p")"; done)
	# music: at least 8 s per track (a 5 s query needs room to start), split by
	# track per package; planetblupi's loops only train (docs/corpus.md says why)
	{
		echo "# pg_sampleid music corpus; made by scripts/corpus.sh (sampleid manifest --seed $SEED)"
		echo "# packages: ${versions% }"
		list_files "$DATA/music" | drop_duplicates "$DATA/music" |
			"$cli" manifest --root "$DATA/music" --seed "$SEED" --min-seconds 8 \
				--splits reference=0.2,validation=0.1,train \
				--force planetblupi-music-ogg=train |
			sed '2,$s|\t|\tmusic/|'
	} > "$out_music"
	{
		echo "# pg_sampleid noise sources; made by scripts/corpus.sh (sampleid manifest --seed $SEED)"
		echo "# packages: ${versions% }"
		{
			list_files "$DATA/noise" | grep -v '^espeak-ng' | drop_duplicates "$DATA/noise" |
				"$cli" manifest --root "$DATA/noise" --seed "$SEED" --min-seconds 0.25 \
					--splits test=0.25,train
		} | sed '2,$s|\t|\tnoise/|'
		# speech: the part is fixed by the renderer (voices and sentences differ)
		list_files "$DATA/noise" | grep '^espeak-ng' |
			"$cli" manifest --root "$DATA/noise" --seed "$SEED" --splits train |
			sed '1d; s|\t|\tnoise/|' |
			awk -F'\t' 'BEGIN{OFS="\t"} { $6 = ($2 ~ /\/test\//) ? "test" : "train"; print }'
	} > "$out_noise"
}

install_corpus_packages
command -v espeak-ng >/dev/null || die "espeak-ng is missing"
build_all
mkdir -p "$DATA"
log "laying out $DATA"
lay_out_music
lay_out_noise

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "measuring files and assigning splits (seed $SEED)"
make_manifests "$tmp/manifest.tsv" "$tmp/noise.tsv"
if [ "$WRITE" = 1 ]; then
	mkdir -p "$REPO/data"
	cp "$tmp/manifest.tsv" "$REPO/data/manifest.tsv"
	cp "$tmp/noise.tsv" "$REPO/data/noise.tsv"
	log "wrote data/manifest.tsv and data/noise.tsv"
else
	diff -u "$REPO/data/manifest.tsv" "$tmp/manifest.tsv" >&2 ||
		die "data/manifest.tsv differs from the corpus on disk (--write to rewrite it)"
	diff -u "$REPO/data/noise.tsv" "$tmp/noise.tsv" >&2 ||
		die "data/noise.tsv differs from the corpus on disk (--write to rewrite it)"
	log "corpus in $DATA matches data/manifest.tsv and data/noise.tsv"
fi
