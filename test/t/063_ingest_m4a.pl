# AAC/M4A end to end (issue 14): a catalogue of three Wesnoth excerpts
# encoded by Debian's ffmpeg as M4A goes in with `sampleid ingest`, the
# server reads M4A bytes (sampleid_audio_info) on one thread and refuses a
# pair the allow-list does not hold (FLAC in Matroska), and sampleid_identify names
# the right recording for an excerpt of it, as M4A and as the original Ogg
# Vorbis cut to a WAV.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
my $music = '/usr/share/games/wesnoth/1.16/data/core/music';
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
plan skip_all => 'ffmpeg is not installed' if system('ffmpeg -version >/dev/null 2>&1') != 0;
plan skip_all => 'wesnoth-1.16-music is not installed' unless -d $music;

my $dir = PostgreSQL::Test::Utils::tempdir();
my @tracks = ('knolls', 'battle', 'loyalists');

sub ffmpeg
{
	my @args = @_;
	system('ffmpeg', '-nostdin', '-v', 'error', '-y', @args) == 0 or die "ffmpeg @args failed";
}

# 30 s of each track from 20 s in, AAC 128 kbit/s stereo
mkdir "$dir/cat";
ffmpeg('-ss', '20', '-t', '30', '-i', "$music/$_.ogg", '-c:a', 'aac', '-b:a', '128k', "$dir/cat/$_.m4a")
  for @tracks;
# the query: 8 s of the second track from 12 s into the excerpt, as M4A and as WAV
ffmpeg('-ss', '32', '-t', '8', '-i', "$music/battle.ogg", '-c:a', 'aac', '-b:a', '96k', "$dir/query.m4a");
ffmpeg('-ss', '32', '-t', '8', '-i', "$music/battle.ogg", '-c:a', 'pcm_s16le', "$dir/query.wav");

my $node = PostgreSQL::Test::Cluster->new('ingest_m4a');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
sub sql { $node->safe_psql('postgres', $_[0]) }

my ($in, $out, $err) = ('', '', '');
IPC::Run::run([ $cli, 'ingest', '--create', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", "$dir/cat" ], '<', \$in, '>', \$out, '2>', \$err);
is($? >> 8, 0, 'sampleid ingest takes a folder of M4A files') or diag($err);
like($err, qr/3 ingested, 0 unchanged, 0 failed of 3 files/, 'all three');
is(sql(q{SELECT string_agg(title || ':' || round(duration_s), ',' ORDER BY title) FROM recordings}),
	'battle:30,knolls:30,loyalists:30', 'with their titles and 30 s durations');
is(sql(q{SELECT count(*) >= 3 * 59 FROM segments}), 't', 'and about two segments a second each');

is(sql(qq{SELECT format || '/' || encoding || '/' || sample_rate || '/' || channels
	FROM sampleid_audio_info(pg_read_binary_file('$dir/cat/knolls.m4a'))}), 'mp4/aac/44100/2',
	'the server reads M4A bytes (FFmpeg, loaded in the backend)');

is($node->safe_psql('postgres', qq{
	SELECT count(*) > 0 FROM sampleid_audio_segments(pg_read_binary_file('$dir/query.m4a'));
	SELECT count(*) FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
}), "t\n1", 'a backend that decoded M4A runs no extra threads (FFmpeg decodes on one)');

# a container FFmpeg reads with a codec the allow-list does not give it
ffmpeg('-ss', '20', '-t', '2', '-i', "$music/knolls.ogg", '-c:a', 'flac', "$dir/flac.mka");
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	qq{SELECT * FROM sampleid_audio_info(pg_read_binary_file('$dir/flac.mka'))},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/0A000: audio input holds flac in matroska, which is not among the accepted formats/,
	'FLAC in Matroska is refused as unsupported (0A000), naming codec and container');

for my $query ('query.m4a', 'query.wav')
{
	my $row = sql(qq{SELECT r.title, i.ref_start, i.query_start, i.accepted
		FROM (SELECT * FROM sampleid_identify(pg_read_binary_file('$dir/$query'), 'segments') LIMIT 1) i
		JOIN recordings r ON r.id = i.recording_id});
	my ($title, $ref, $qs, $acc) = split /\|/, $row;
	is($title, 'battle', "$query: sampleid_identify names the right recording");
	cmp_ok(abs(($ref // 99) - ($qs // 0) - 12), '<=', 0.5,
		"$query: at the right offset (reference $ref s for query " . ($qs // '?') . ' s, 12 s expected)');
	is($acc, 't', "$query: accepted");
}

$node->stop;
done_testing();
