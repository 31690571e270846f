# End to end with the shipped model: fingerprint five spoken recordings in the
# server, index them with ivfpq, and identify a 2 s excerpt of one of them
# under white noise at 10 dB SNR with the offset-compensated voting join of
# the demo, then with sampleid_identify (audio and fingerprint forms, the
# content gate on silence and a tone, bad input) and `sampleid identify`.  The recordings are rendered by espeak-ng, so the test needs no
# data set; the model never saw speech in training, which makes this a test
# of the pipeline, not of the model's accuracy (sampleid eval measures that).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
plan skip_all => 'espeak-ng is not installed' if system('espeak-ng --version >/dev/null 2>&1') != 0;

my $dir = PostgreSQL::Test::Utils::tempdir();
my @sentences = (
	'The quick brown fox jumps over the lazy dog near the river bank.',
	'Rights departments keep their recordings in a relational database.',
	'A broadcaster wants to know which song was played and when.',
	'Every segment of every recording gets its own fingerprint vector.',
	'Noise and reverberation should not stop the identification.');
for my $i (0 .. $#sentences)
{
	system('espeak-ng', '-s', '150', '-w', "$dir/rec$i.wav", $sentences[$i]) == 0
	  or die "espeak-ng failed";
}

# 16-bit mono PCM of a RIFF/WAVE file: (rate, samples)
sub read_wav
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	my $bytes = <$fh>;
	close $fh;
	my $rate = unpack('V', substr($bytes, 24, 4));
	my $pos = 12;
	while ($pos + 8 <= length $bytes)
	{
		my ($id, $len) = unpack('A4 V', substr($bytes, $pos, 8));
		$len = length($bytes) - $pos - 8 if $id eq 'data' && $pos + 8 + $len > length $bytes;
		return ($rate, [ unpack('s<*', substr($bytes, $pos + 8, $len)) ]) if $id eq 'data';
		$pos += 8 + $len + ($len & 1);
	}
	die "$path: no data chunk";
}

sub write_wav
{
	my ($path, $rate, $samples) = @_;
	write_pcm_wav($path, $rate, 1, pack('s<*', @$samples));
}

# the query: recording 2 from 1.0 s to 3.0 s, white noise at 10 dB SNR
my ($rate, $x) = read_wav("$dir/rec2.wav");
my @clip = @$x[ $rate * 1.0 .. $rate * 3.0 - 1 ];
my $power = 0;
$power += $_ * $_ for @clip;
$power /= @clip;
my $noise_rms = sqrt($power / 10**(10 / 10));
my $seed = 12345;
my @noisy = map {
	# Box-Muller over a small LCG: the same noise on every run
	my @u = map { $seed = ($seed * 1103515245 + 12345) % 2**31; ($seed + 1) / (2**31 + 1) } 1 .. 2;
	my $v = $_ + $noise_rms * sqrt(-2 * log($u[0])) * cos(2 * 3.14159265 * $u[1]);
	$v > 32767 ? 32767 : $v < -32768 ? -32768 : int($v)
} @clip;
write_wav("$dir/query.wav", $rate, \@noisy);

my $node = PostgreSQL::Test::Cluster->new('identify');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
$node->safe_psql('postgres', qq{
	CREATE TABLE recordings (id int PRIMARY KEY, audio_path text);
	INSERT INTO recordings SELECT i, '$dir/rec' || i || '.wav' FROM generate_series(0, 4) i;
	CREATE TABLE segments (recording_id int REFERENCES recordings, seg int, t_start real,
	                       fp fingerprint(128), PRIMARY KEY (recording_id, seg));
	INSERT INTO segments
	SELECT r.id, e.seg, e.t_start, e.fp
	FROM recordings r, sampleid_embed(pg_read_binary_file(r.audio_path)) e;
	CREATE INDEX ON segments USING ivfpq (fp);
});
ok($node->safe_psql('postgres', 'SELECT count(*) FROM segments') >= 35,
	'every recording is fingerprinted every 0.5 s');

my $identify = qq{
	SET enable_seqscan = off;
	WITH q AS (SELECT * FROM sampleid_embed(pg_read_binary_file('$dir/query.wav')))
	SELECT s.recording_id, s.seg - q.seg AS alignment, count(*) AS votes
	FROM q CROSS JOIN LATERAL (
	       SELECT recording_id, seg, fp FROM segments ORDER BY fp <#> q.fp LIMIT 5) s
	GROUP BY 1, 2
	ORDER BY votes DESC, avg(-(s.fp <#> q.fp)) DESC
	LIMIT 1};
my ($recording, $alignment, $votes) = split /\|/, $node->safe_psql('postgres', $identify);
is($recording, 2, 'the noisy excerpt is identified as the right recording');
is($alignment, 2, 'at the right offset: 1.0 s = 2 segments of 0.5 s');
my $query_segments = $node->safe_psql('postgres',
	qq{SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$dir/query.wav'))});
cmp_ok(2 * $votes, '>', $query_segments,
	"most of the query's $query_segments segments agree on it ($votes)");

# forty rows are cheaper to sort than to probe, so the planner is told to use
# the index, as it does by itself on a real catalogue (sql/ivfpq.sql)
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT * FROM segments ORDER BY fp <#> '[" .
	join(',', (0.1) x 128) . "]' LIMIT 5"), qr/Index Scan using segments_fp_idx/,
	'the nearest-neighbour step uses the ivfpq index');

# The extension links the single-threaded OpenBLAS (Makefile): a backend that
# has embedded audio must still be one thread, so PostgreSQL's signal
# handlers can only run on it.
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$dir/query.wav'));
	SELECT count(*) FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
}), "$query_segments\n1", 'a backend that embedded audio runs no extra threads');

# ---- sampleid_identify: the same identification as one call.  The default
# thresholds are calibrated on music (docs/benchmarks.md); the model never
# heard speech, whose excerpts score lower, so this test of the pipeline
# names lower ones.
$node->safe_psql('postgres', "SELECT sampleid_catalogue_register('segments')");
my $row = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT recording_id, query_start, query_end, ref_start, ref_end, segments, accepted
	FROM sampleid_identify(pg_read_binary_file('$dir/query.wav'), 'segments',
	                       min_similarity => 0.5, min_coverage => 0.5)});
my @rows = split /\n/, $row;
my ($rec, $qs, $qe, $rs, $re, $segs, $acc) = split /\|/, ($rows[0] // '');
is($rec, 2, 'sampleid_identify names the right recording first');
cmp_ok(abs(($rs // 99) - ($qs // 0) - 1.0), '<=', 0.25, "at the right offset (reference $rs s for query $qs s)");
cmp_ok($rs, '>=', 0, 'the reference range starts inside the recording');
cmp_ok($qe - $qs, '>', 1.0, "the query range covers more than one segment ($qs .. $qe s)");
is($acc, 't', 'and it is accepted');

# ... from fingerprints computed elsewhere: the same answer
is($node->safe_psql('postgres', qq{
	WITH q AS (SELECT * FROM sampleid_embed(pg_read_binary_file('$dir/query.wav')))
	SELECT recording_id, ref_start FROM sampleid_identify(
	    (SELECT array_agg(fp ORDER BY seg) FROM q), (SELECT array_agg(t_start ORDER BY seg) FROM q),
	    'segments', min_similarity => 0.5, min_coverage => 0.5) LIMIT 1}), "2|$rs",
	'the fingerprint form gives the same match');

# segments without content never vote: digital silence and a steady tone
# give no row, and a NOTICE says why
write_wav("$dir/silence.wav", $rate, [ (0) x (3 * $rate) ]);
write_wav("$dir/tone.wav", $rate, [ map { int(8000 * sin(2 * 3.14159265 * 440 * $_ / $rate)) } 0 .. 3 * $rate - 1 ]);
for my $clip ('silence', 'tone')
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$dir/$clip.wav'), 'segments')");
	is($stdout, '0', "$clip: no match");
	like($stderr, qr/NOTICE:  no match: none of the query's \d+ segments has content/,
		"$clip: a NOTICE says the query has no content");
}

# the coarse stage's statement, as the function prepares it, uses the index
my $coarse = $node->safe_psql('postgres', 'SELECT sampleid_identify_coarse_query()');
like($node->safe_psql('postgres', "SET enable_seqscan = off; PREPARE c(fingerprint, int) AS $coarse; "
	. "EXPLAIN (COSTS OFF) EXECUTE c('[" . join(',', (0.1) x 128) . "]', 20)"),
	qr/Index Scan using segments_fp_idx/, 'the coarse stage uses the ivfpq index');

# bad input is an ERROR with its SQLSTATE
for my $case ([ q{''::bytea, 'segments'}, '22P03' ], [ q{'\x00'::bytea, 'segments', k => 0}, '22023' ],
	[ q{'\x00'::bytea, 'segments', model => 'other'}, '22023' ])
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT * FROM sampleid_identify($case->[0])");
	like($stderr, qr/ERROR:  $case->[1]:/, "sampleid_identify($case->[0]) fails with $case->[1]");
}

# sampleid identify: embeds on the client, asks the server's fingerprint form
my $cli = "$repo/build/sampleid";
SKIP:
{
	skip "no $cli", 2 unless -x $cli;
	my $out = `$cli identify --dsn '@{[ $node->connstr('postgres') ]}' --model-dir '$repo/models' --min-similarity 0.5 --min-coverage 0.5 --tsv '$dir/query.wav' '$dir/silence.wav' 2>&1`;
	like($out, qr/^\Q$dir\E\/query\.wav\t2\t/m, 'the CLI names the right recording');
	unlike($out, qr/silence\.wav\t/, 'and no recording for silence');
}

$node->stop;
done_testing();
