# Sample mode of identification (issue 11): a catalogue of four music
# recordings fingerprinted with the `sample` model by `sampleid ingest
# --model sample`; a 10 s excerpt of one of them transposed up 2 semitones
# (sox pitch, tempo kept) and mixed under a drum loop rendered here
# (kick, snare, hats from a seeded LCG) must come back from
# sampleid_identify(..., model => 'sample') first, with both time ranges
# within two hops of the truth and a pitch estimate of +2; the same from
# `sampleid identify --model sample` (the client's copies); speech and noise
# must give no row, and so must another track under the same treatment.  Also: the catalogue is registered with the sample model,
# semitones bounds are refused by name, and `sampleid embed --model sample`
# fingerprints; `sampleid match --model sample` finds the query as one use
# of knolls inside a longer work, with both time ranges and its pitch.  For comparison (a note, not a check) what the fp model
# finds for the same query without transposed copies.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SampleidTest qw(:DEFAULT run_with_input sox write_drums write_no_match);

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
my $music = '/usr/share/games/wesnoth/1.16/data/core/music';
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no sample model $repo/models/sample.sidm (the lead ships it)"
  unless -f "$repo/models/sample.sidm";
plan skip_all => "no Wesnoth music in $music" unless -f "$music/battle.ogg";
plan skip_all => 'sox or espeak-ng is not installed'
  if system('sox --version >/dev/null 2>&1') != 0 || system('espeak-ng --version >/dev/null 2>&1') != 0;
my $dir = PostgreSQL::Test::Utils::tempdir();
my $hop = 0.5;

# the catalogue: four 40 s excerpts, 16 kHz mono
mkdir "$dir/catalogue" or die;
sox("$music/$_.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/catalogue/$_.wav", 'trim', '30', '40')
  for qw(battle knolls loyalists elvish-theme);
# the query: knolls 12 .. 22 s of the catalogue file, up 2 semitones, under the drums
my ($ref_start, $ref_end) = (12, 22);
sox("$dir/catalogue/knolls.wav", "$dir/excerpt.wav", 'trim', $ref_start, $ref_end - $ref_start);
sox("$dir/excerpt.wav", "$dir/transposed.wav", 'pitch', '200');
write_drums("$dir/drums.wav", $ref_end - $ref_start, 16000);
sox('-m', "$dir/transposed.wav", "$dir/drums.wav", "$dir/query.wav", 'gain', '-n', '-1');
# a foreign query: another Wesnoth track, not in the catalogue, under the same treatment
sox("$music/the_king_is_dead.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/foreign_excerpt.wav", 'trim', '40', '10',
	'pitch', '200');
sox('-m', "$dir/foreign_excerpt.wav", "$dir/drums.wav", "$dir/foreign.wav", 'gain', '-n', '-1');
# no match: speech, and seeded brown noise
write_no_match($dir);

my $node = PostgreSQL::Test::Cluster->new('sample');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
$node->safe_psql('postgres', 'CREATE DATABASE fp');
$node->safe_psql('fp', 'CREATE EXTENSION sampleid');
sub sql { $node->safe_psql($_[1] // 'postgres', $_[0]) }

my ($rc, $out, $err) = run_with_input(\'', $cli, 'ingest', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--create', "$dir/catalogue");
is($rc, 0, 'sampleid ingest --model sample makes the catalogue') or diag($err);
is(sql("SELECT model FROM sampleid_catalogues WHERE catalogue = 'segments'::regclass"), 'sample',
	'it is registered with the sample model');
my $knolls = sql("SELECT id FROM recordings WHERE audio_path LIKE '%/knolls.wav'");

($rc, $out, $err) = run_with_input(\'', $cli, 'embed', '--model-dir', "$repo/models", '--model', 'sample',
	"$dir/excerpt.wav");
is($rc, 0, 'sampleid embed --model sample fingerprints') or diag($err);
is(scalar(grep { /^\S+\t\d+\t/ } split /\n/, $out), 19, 'one row per segment of the 10 s excerpt');

# the audio form: the server makes the copies
my $cols = 'recording_id, query_start, query_end, ref_start, ref_end, semitones, tempo, accepted';
my $q = "pg_read_binary_file('$dir/query.wav')";
my ($res, $stderr);
$node->psql('postgres', "SELECT $cols FROM sampleid_identify($q, 'segments', model => 'sample')",
	stdout => \$res, stderr => \$stderr);
diag("sample mode, audio form:\n$res");
my @first = split /\|/, (split /\n/, $res)[0] // '';
is($first[0], $knolls, 'the transposed excerpt under drums is found: knolls first');
ok(abs(($first[1] // 1e9) - 0) <= 2 * $hop && abs(($first[2] // 1e9) - ($ref_end - $ref_start)) <= 2 * $hop,
	'its query range is within two hops of 0 .. 10 s') or diag("query @first[1,2]");
ok(abs(($first[3] // 1e9) - $ref_start) <= 2 * $hop && abs(($first[4] // 1e9) - $ref_end) <= 2 * $hop,
	"its reference range is within two hops of $ref_start .. $ref_end s") or diag("reference @first[3,4]");
is($first[5], '2', 'its pitch estimate is +2 semitones');
is(scalar(grep { my @r = split /\|/; $r[0] eq $knolls && $r[7] eq 't' } split /\n/, $res), 1,
	'the one use is one accepted row (the copies and neighbouring alignments collapse)');
ok(abs(($first[6] // 0) - 1) <= 0.1, 'its tempo estimate is about 1') or diag("tempo $first[6]");
if (-f "$repo/models/sample.sidv")
{
	unlike($stderr, qr/has no verifier installed/, 'the sample model\'s verifier is installed and used');
	my $verified = sql("SELECT probability IS NOT NULL FROM sampleid_identify($q, 'segments', model => 'sample') LIMIT 1");
	is($verified, 't', 'the accepted row has the verifier\'s probability');
}
else
{
	like($stderr, qr/model "sample" has no verifier installed/, 'a model without a verifier says so');
}
is(sql("SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$dir/foreign.wav'), 'segments', model => 'sample')"),
	'0', 'a foreign track under the same treatment is not accepted');

# without copies the same model misses it or finds it less well: shown, not checked
diag("sample model, semitones => '{0}':\n"
	  . sql("SELECT $cols FROM sampleid_identify($q, 'segments', semitones => '{0}', include_rejected => true) LIMIT 3"));

# sample mode raises ivfpq.probes for its own coarse searches only
is(sql("SET ivfpq.probes = 2; SELECT count(*) > 0 FROM sampleid_identify($q, 'segments', model => 'sample'); SHOW ivfpq.probes"),
	"t\n2", 'ivfpq.probes is as it was after a sample-mode call');

# no match
for my $none (qw(speech noise))
{
	is(sql("SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$dir/$none.wav'), 'segments')"), '0',
		"$none gives no row");
}

# bounds
$node->psql('postgres', "SELECT * FROM sampleid_identify($q, 'segments', semitones => '{-4,-3,-2,-1,0,1,2,3}')",
	stderr => \$stderr);
like($stderr, qr/more than 7 transposed copies of the query \(sampleid.identify_max_copies\)/,
	'more copies than the setting are refused');
$node->psql('postgres', "SELECT * FROM sampleid_identify($q, 'segments', semitones => '{0,13}')",
	stderr => \$stderr);
like($stderr, qr/semitones must be between -12 and 12, not 13/, 'a shift beyond an octave is refused');
$node->psql('postgres', "SELECT * FROM sampleid_identify($q, 'segments', semitones => '{1,1}')",
	stderr => \$stderr);
like($stderr, qr/semitones must not repeat/, 'a repeated shift is refused');

# the CLI: copies made on the client, sent with each row's shift
($rc, $out, $err) = run_with_input(\'', $cli, 'identify', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--tsv', "$dir/query.wav");
is($rc, 0, 'sampleid identify --model sample succeeds') or diag($err);
my @cli = split /\t/, (split /\n/, $out)[0] // '';
is($cli[1], $knolls, 'sampleid identify: knolls first') or diag($out);
ok(abs(($cli[4] // 1e9) - $ref_start) <= 2 * $hop, 'sampleid identify: the reference start');
is($cli[10], '2', 'sampleid identify: the pitch column');
($rc, $out, $err) = run_with_input(\'', $cli, 'identify', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--json', "$dir/query.wav");
like($out, qr/"semitones": 2, "tempo": [0-9.]+/, 'sampleid identify --json has the pitch and tempo');
($rc, $out, $err) = run_with_input(\'', $cli, 'identify', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--semitones', '1:3', "$dir/query.wav");
isnt($rc, 0, '--semitones must include 0');

# batch matching in sample mode: a 20 s work of noise, the query, speech
sox("$dir/noise.wav", "$dir/work_head.wav", 'trim', '0', '5');
sox("$dir/speech.wav", "$dir/work_tail.wav", 'trim', '0', '5');
sox("$dir/work_head.wav", "$dir/query.wav", "$dir/work_tail.wav", "$dir/work.wav");
($rc, $out, $err) = run_with_input(\'', $cli, 'match', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', "$dir/work.wav");
is($rc, 0, 'sampleid match --model sample succeeds') or diag($err);
like($out, qr{work\.wav: 1 use$}m, 'it finds one use in the work') or diag($out);
my @use = split /\|/, sql(q{SELECT recording_id, work_start, work_end, recording_start, recording_end,
	semitones, round(tempo::numeric, 2) FROM matches});
diag("sample mode, match: @use");
is($use[0], $knolls, 'the use is of knolls');
ok(abs(($use[1] // 1e9) - 5) <= 3 * $hop && abs(($use[2] // 1e9) - 15) <= 3 * $hop,
	'its work range is within three hops of 5 .. 15 s') or diag("work @use[1,2]");
ok(abs(($use[3] // 1e9) - $ref_start) <= 3 * $hop && abs(($use[4] // 1e9) - $ref_end) <= 3 * $hop,
	"its recording range is within three hops of $ref_start .. $ref_end s") or diag("recording @use[3,4]");
is($use[5], '2', 'its pitch is +2 semitones');
ok(abs(($use[6] // 0) - 1) <= 0.1, 'its tempo is about 1') or diag("tempo $use[6]");
# the same inside the server: sampleid_match makes the copies (sampleid_embed_copies)
is(sql("SELECT count(*), count(DISTINCT shift), min(shift), max(shift), count(*) FILTER (WHERE shift = 0)
	FROM sampleid_embed_copies(pg_read_binary_file('$dir/work.wav'), 'sample')"), '273|7|-3|3|39',
	'sampleid_embed_copies: 7 copies of the 20 s work, 39 segments each');
is(sql("SELECT count(DISTINCT shift) FROM sampleid_embed_copies(pg_read_binary_file('$dir/work.wav'), 'fp')"), '1',
	'and one copy for the fp model');
sql("CREATE TABLE works AS SELECT 'sql:work' AS work, pg_read_binary_file('$dir/work.wav') AS audio");
is(sql("SELECT * FROM sampleid_match('works')"), 'sql:work|1', 'sampleid_match finds one use in the work');
my @sql_use = split /\|/, sql(q{SELECT recording_id, work_start, work_end, recording_start, recording_end,
	semitones FROM matches WHERE work = 'sql:work'});
is("$sql_use[0]|$sql_use[5]", "$knolls|2", 'sampleid_match: knolls, +2 semitones');
ok(abs(($sql_use[3] // 1e9) - $ref_start) <= 3 * $hop, 'sampleid_match: the recording start')
  or diag("@sql_use");
($rc, $out, $err) = run_with_input(\'', $cli, 'match', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--semitones', '0:0', "$dir/work.wav");
diag("sample model, match without copies: $out" . sql('SELECT recording_id, work_start, work_end, semitones FROM matches'));
($rc, $out, $err) = run_with_input(\'', $cli, 'match', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--semitones', '2:3', "$dir/work.wav");
is($rc, 2, 'sampleid match: --semitones must include 0');
like($err, qr/--semitones wants LO:HI with LO <= 0 <= HI/, 'saying so');

# a live feed in sample mode: the work as a stream, each window searched as its copies
sox("$dir/work.wav", '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed', "$dir/work.raw");
my $stream = slurp_file("$dir/work.raw");
($rc, $out, $err) = run_with_input(\$stream, $cli, 'monitor', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', 'sample', '--tsv');
is($rc, 0, 'sampleid monitor --model sample succeeds') or diag($err);
my @heard = map { [ split /\t/ ] } grep { /^\d/ } split /\n/, $out;
diag("sample mode, monitor:\n$out");
is(scalar(grep { $_->[0] eq $knolls } @heard), 1, 'sampleid monitor: one use of knolls') or diag($out);
my ($heard) = grep { $_->[0] eq $knolls } @heard;
ok(abs(($heard->[1] // 1e9) - 5) <= 2.5 && abs(($heard->[5] // 1e9) - $ref_start) <= 2.5,
	'sampleid monitor: its stream and reference starts') or diag($out);
is($heard->[8], '2', 'sampleid monitor: its pitch');

# for comparison: fp, its own catalogue, no copies (a note, not a check)
($rc, $out, $err) = run_with_input(\'', $cli, 'ingest', '--dsn', $node->connstr('fp'),
	'--model-dir', "$repo/models", '--create', "$dir/catalogue");
is($rc, 0, 'the fp catalogue is ingested') or diag($err);
diag("fp, no copies (knolls is " . sql("SELECT id FROM recordings WHERE audio_path LIKE '%/knolls.wav'", 'fp') . "):\n"
	  . sql("SELECT $cols FROM sampleid_identify($q, 'segments', include_rejected => true) LIMIT 3", 'fp'));
diag("fp, semitones -3 .. +3:\n"
	  . sql("SELECT $cols FROM sampleid_identify($q, 'segments', semitones => '{-3,-2,-1,0,1,2,3}', include_rejected => true) LIMIT 3", 'fp'));

$node->stop;
done_testing();
