# `sampleid match` and sampleid_match: new works made from the Wesnoth music
# (a catalogue excerpt under noise, one overlaid with another track, two
# concatenated with material not in the catalogue, and one with nothing of
# the catalogue) are matched against a catalogue that `sampleid ingest
# --create` made; the uses found must be the ones put in, with both time
# ranges within two hops, a re-run must leave the same rows, and the SQL
# function over a table of works must find the same uses.  The overlay is
# the other track at 0.3 of its level over the loud opening of the excerpt:
# while this test was written, a quiet passage of the same recording (from
# 12 s into the excerpt) under that track, even at 0.1 of its level, was
# found only up to where the passage turns quiet (the fp model; issue 11's
# sample mode is meant for music under music).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
my $music = '/usr/share/games/wesnoth/1.16/data/core/music';
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
plan skip_all => "no Wesnoth music in $music" unless -f "$music/wanderer.ogg";
plan skip_all => 'sox or espeak-ng is not installed'
  if system('sox --version >/dev/null 2>&1') != 0 || system('espeak-ng --version >/dev/null 2>&1') != 0;
my $dir = PostgreSQL::Test::Utils::tempdir();
my $hop = 0.5;

sub run_cmd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([@_], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub sox
{
	my ($rc, undef, $err) = run_cmd('sox', @_);
	die "sox @_: $err" if $rc != 0;
}

# 16 kHz mono pieces: catalogue excerpts, the foreign track, speech, noise
mkdir "$dir/catalogue" or die;
my @catalogue = qw(battle knolls loyalists);
sox("$music/$_.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/catalogue/$_.wav", 'trim', '30', '40')
  for @catalogue;
my $n_pieces = 0;
sub piece
{
	my ($name, $from, $seconds, @effects) = @_;
	my $src = $name eq 'wanderer' ? "$music/wanderer.ogg" : "$dir/catalogue/$name.wav";
	my $out = "$dir/piece" . $n_pieces++ . '.wav';
	sox($src, '-r', '16000', '-c', '1', '-b', '16', $out, 'trim', $from, $seconds, @effects);
	return $out;
}
system('espeak-ng', '-s', '150', '-w', "$dir/speech_raw.wav",
	'This new work starts with a spoken introduction before the music.') == 0 or die 'espeak-ng failed';
sox("$dir/speech_raw.wav", '-r', '16000', '-c', '1', '-b', '16', "$dir/speech.wav", 'pad', '0', '1', 'trim', '0', '5');
sox('-n', '-r', '16000', '-c', '1', '-b', '16', "$dir/noise.wav", 'synth', '14', 'whitenoise', 'vol', '0.03');

# the works, and the uses put in: [work, recording, work from, to, recording from, to]
mkdir "$dir/works" or die;
my $battle = piece('battle', 8, 14);
sox('-m', $battle, "$dir/noise.wav", "$dir/noisy_battle.wav");
sox("$dir/speech.wav", "$dir/noisy_battle.wav", piece('wanderer', 60, 6), "$dir/works/noisy.wav");
sox('-m', '-v', '1', piece('knolls', 0, 12), '-v', '0.3', piece('wanderer', 30, 12), "$dir/works/overlaid.wav");
sox(piece('loyalists', 0, 12), "$dir/speech.wav", piece('battle', 24, 12), "$dir/works/concatenated.wav");
sox(piece('wanderer', 100, 20), "$dir/works/foreign.wav");
my @planted = (
	[ 'concatenated', 'loyalists', 0, 12, 0, 12 ],
	[ 'concatenated', 'battle', 17, 29, 24, 36 ],
	[ 'noisy', 'battle', 5, 19, 8, 22 ],
	[ 'overlaid', 'knolls', 0, 12, 0, 12 ]);

my $node = PostgreSQL::Test::Cluster->new('match');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
my $dsn = $node->connstr('postgres');
sub sql { $node->safe_psql('postgres', $_[0]) }

my ($rc, $out, $err) = run_cmd($cli, 'ingest', '--dsn', $dsn, '--model-dir', "$repo/models", '--create',
	"$dir/catalogue");
is($rc, 0, 'the catalogue is ingested') or diag($err);

my @match = ($cli, 'match', '--dsn', $dsn, '--model-dir', "$repo/models");
my $t0 = Time::HiRes::time();
($rc, $out, $err) = run_cmd(@match, "$dir/works");
my $elapsed = Time::HiRes::time() - $t0;
is($rc, 0, 'sampleid match succeeds') or diag($err);
my $audio_seconds = 0;
$audio_seconds += (run_cmd('soxi', '-D', $_))[1] for glob("$dir/works/*.wav");
diag(sprintf('sampleid match: %.1f s of works in %.2f s (%.0fx real time, with loading the model)',
	$audio_seconds, $elapsed, $audio_seconds / $elapsed));
like($out, qr/foreign\.wav: 0 uses/, 'a work without catalogue audio has no use');

my $uses_sql = q{SELECT regexp_replace(m.work, '^.*/|\.wav$', '', 'g'), regexp_replace(r.audio_path, '^.*/|\.wav$', '', 'g'),
	m.work_start, m.work_end, m.recording_start, m.recording_end, m.confidence, m.model
	FROM matches m JOIN recordings r ON r.id = m.recording_id};
sub uses
{
	my ($where) = @_;
	return [ map { [ split /\|/ ] } split /\n/, sql("$uses_sql $where ORDER BY 1, 3, 2") ];
}
my $found = uses('');
diag(join("\n", map { join(' ', @$_) } @$found));
is(scalar @$found, scalar @planted, 'one row per use put in');
for my $i (0 .. $#planted)
{
	my ($p, $f) = ($planted[$i], $found->[$i] // []);
	my $name = "$p->[0] uses $p->[1]";
	is_deeply([ @$f[ 0, 1 ] ], [ @$p[ 0, 1 ] ], "$name: the work and recording");
	my @off = map { abs(($f->[$_] // 1e9) - $p->[$_]) } 2 .. 5;
	ok((!grep { $_ > 2 * $hop } @off), "$name: both time ranges within two hops")
	  or diag("found @$f[2..5], put in @$p[2..5]");
	ok(defined $f->[6] && $f->[6] > 0 && $f->[6] <= 1 && $f->[7] eq 'fp', "$name: a confidence and the model");
}

my $before = sql("SELECT work, recording_id, work_start, work_end, recording_start, recording_end, confidence FROM matches ORDER BY 1, 3, 2");
($rc, $out, $err) = run_cmd(@match, "$dir/works/noisy.wav", "$dir/works/concatenated.wav");
is($rc, 0, 'a re-run succeeds') or diag($err);
is(sql("SELECT work, recording_id, work_start, work_end, recording_start, recording_end, confidence FROM matches ORDER BY 1, 3, 2"),
	$before, 'and leaves the same rows');

# the SQL function over a table of works: audio as bytea, and as server paths
sql("CREATE TABLE works AS SELECT 'sql:' || f AS work, pg_read_binary_file('$dir/works/' || f) AS audio,
	'$dir/works/' || f AS path FROM unnest(ARRAY['noisy.wav', 'overlaid.wav', 'concatenated.wav', 'foreign.wav']) f");
is(sql("SELECT string_agg(work || '=' || uses, ' ' ORDER BY work) FROM sampleid_match('works')"),
	'sql:concatenated.wav=2 sql:foreign.wav=0 sql:noisy.wav=1 sql:overlaid.wav=1', 'sampleid_match: the uses per work');
my $close = "SELECT count(*) FROM matches s JOIN matches c ON c.work = regexp_replace(s.work, '^sql:', '$dir/works/')
	AND c.recording_id = s.recording_id AND abs(c.work_start - s.work_start) <= $hop AND abs(c.work_end - s.work_end) <= $hop
	AND abs(c.recording_start - s.recording_start) <= $hop WHERE s.work LIKE 'sql:%'";
is(sql($close), scalar @planted, 'the same uses as sampleid match, within a hop');
sql("DELETE FROM matches WHERE work LIKE 'sql:%'");
is(sql("SELECT sum(uses) FROM sampleid_match('works', audio_column => 'path')"), scalar @planted,
	'sampleid_match over server paths');
is(sql($close), scalar @planted, 'with the same uses');
is(sql("SELECT sum(uses) FROM sampleid_match('works', audio_column => 'path')") . ' ' . sql("SELECT count(*) FROM matches"),
	scalar(@planted) . ' ' . 2 * scalar(@planted), 'a re-run replaces the rows');

# bad input
my ($ok, $stderr);
($ok, undef, $stderr) = $node->psql('postgres', "SELECT * FROM sampleid_match('works', audio_column => 'nope')");
like($stderr, qr/column "nope" of "works" does not exist/, 'a missing audio column');
($ok, undef, $stderr) = $node->psql('postgres', "SELECT * FROM sampleid_match('works', catalogue => 'works')");
like($stderr, qr/catalogue "works" is not registered/, 'a table that is not a catalogue');
($ok, undef, $stderr) = $node->psql('postgres',
	"SELECT * FROM sampleid_match_uses(ARRAY[]::fingerprint[], ARRAY[]::real[], window_seconds => 2, step_seconds => 3)");
like($stderr, qr/the step at most the window/, 'a step longer than the window');
open(my $fh, '>', "$dir/not_audio.wav") or die;
print $fh "not audio\n";
close $fh;
($rc, $out, $err) = run_cmd(@match, "$dir/not_audio.wav", "$dir/works/foreign.wav");
is($rc, 1, 'a file that is not audio fails the run');
like($err, qr/sampleid match: \Q$dir\E\/not_audio\.wav: /, 'naming the file');
like($out, qr/foreign\.wav: 0 uses/, 'and the other files are matched');
($rc, $out, $err) = run_cmd(@match, '--matches', 'no_such_table', "$dir/works/foreign.wav");
is($rc, 1, 'a missing matches table fails');
like($err, qr/sampleid match: .*no_such_table/, 'saying which');
($rc, $out, $err) = run_cmd(@match, '--window', '8x', "$dir/works/foreign.wav");
is($rc, 2, 'a malformed --window is a usage error');

# sampleid dedupe: a copy of one recording, transcoded, ingested under a second id
($rc, $out, $err) = run_cmd($cli, 'dedupe', '--dsn', $dsn);
is($rc . $out, "0recording_id\tduplicate_id\tpath\tduplicate_path\tcoverage\tduplicate_coverage\tsimilarity\n",
	'dedupe: no pair in a catalogue without duplicates') or diag($err);
mkdir "$dir/copies" or die;
sox("$dir/catalogue/knolls.wav", "$dir/copies/knolls_again.flac");
($rc, $out, $err) = run_cmd($cli, 'ingest', '--dsn', $dsn, '--model-dir', "$repo/models", "$dir/copies");
is($rc, 0, 'the copy is ingested') or diag($err);
($rc, $out, $err) = run_cmd($cli, 'dedupe', '--dsn', $dsn);
is($rc, 0, 'dedupe succeeds') or diag($err);
my @pairs = map { [ split /\t/ ] } grep { !/^recording_id/ } split /\n/, $out;
is(join(' ', map { "$_->[2] $_->[3]" } @pairs), "$dir/catalogue/knolls.wav $dir/copies/knolls_again.flac",
	'the one pair is the recording and its copy');
ok(@pairs == 1 && $pairs[0][4] > 0.9 && $pairs[0][5] > 0.9, 'each heard in the other, nearly whole')
  or diag($out);
like($err, qr/1 pair of recordings with the same audio/, 'and summarised');
($rc, $out, $err) = run_cmd($cli, 'dedupe', '--dsn', $dsn, '--segments', 'matches');
is($rc, 1, 'dedupe of a table that is not a catalogue fails');
like($err, qr/sampleid dedupe: .*matches/, 'saying which');

$node->stop;
done_testing();
