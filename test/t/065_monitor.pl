# `sampleid monitor`: a stream of synthesised notes and speech, then an
# excerpt of a catalogue recording, then noise and other notes, is piped in
# as raw PCM; the one use must be logged once, with the recording, both
# time ranges within a window step (--every) and wall-clock times in ISO
# 8601, and nothing for the parts not in the catalogue.  The same stream at
# 44.1 kHz, and a stream stopped by SIGTERM while the excerpt still plays
# (the open use is logged), must agree; ten minutes of stream must not
# raise the peak resident size by 2 MiB over the first minute's; bad
# options and an unregistered catalogue are refused.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SampleidTest qw(:DEFAULT run_with_input sox);

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
my $music = '/usr/share/games/wesnoth/1.16/data/core/music';
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
plan skip_all => "no Wesnoth music in $music" unless -f "$music/battle.ogg";
plan skip_all => 'sox or espeak-ng is not installed'
  if system('sox --version >/dev/null 2>&1') != 0 || system('espeak-ng --version >/dev/null 2>&1') != 0;
my $dir = PostgreSQL::Test::Utils::tempdir();
my $every = 2;

sub seconds { (run_with_input(\'', 'soxi', '-D', $_[0]))[1] + 0 }

# the catalogue: three 40 s excerpts; the stream's parts, 16 kHz mono
mkdir "$dir/catalogue" or die;
sox("$music/$_.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/catalogue/$_.wav", 'trim', '30', '40')
  for qw(battle knolls loyalists);
write_notes("$dir/notes1.wav", 6, 16000, 7);
write_notes("$dir/notes2.wav", 6, 16000, 11);
system('espeak-ng', '-s', '150', '-w', "$dir/speech_raw.wav",
	'You are listening to a test stream; the music comes after this announcement.') == 0
  or die 'espeak-ng failed';
sox("$dir/speech_raw.wav", '-r', '16000', '-c', '1', '-b', '16', "$dir/speech.wav");
sox("$dir/catalogue/battle.wav", "$dir/excerpt.wav", 'trim', '8', '18');
# -R: the same noise every run (unseeded, one run in several matched it to battle's tail)
sox('-R', '-n', '-r', '16000', '-c', '1', '-b', '16', "$dir/noise.wav", 'synth', '6', 'brownnoise', 'vol', '0.1');
sox("$dir/notes1.wav", "$dir/speech.wav", "$dir/excerpt.wav", "$dir/noise.wav", "$dir/notes2.wav",
	"$dir/stream.wav");
my $start = seconds("$dir/notes1.wav") + seconds("$dir/speech.wav");
my $end = $start + seconds("$dir/excerpt.wav");

my $node = PostgreSQL::Test::Cluster->new('monitor');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
my $dsn = $node->connstr('postgres');
my ($rc, $out, $err) = run_with_input(\'', $cli, 'ingest', '--dsn', $dsn, '--model-dir', "$repo/models",
	'--create', "$dir/catalogue");
is($rc, 0, 'the catalogue is ingested') or diag($err);
my $battle = $node->safe_psql('postgres', "SELECT id FROM recordings WHERE audio_path LIKE '%/battle.wav'");

my @monitor = ($cli, 'monitor', '--dsn', $dsn, '--model-dir', "$repo/models", '--every', $every);
sub pcm
{
	my ($rate, $wav) = @_;
	my $raw = "$dir/stream.$rate.raw";
	sox($wav // "$dir/stream.wav", '-t', 'raw', '-r', $rate, '-c', '1', '-b', '16', '-e', 'signed', $raw);
	return $raw;
}

# A monitor reading a pipe this test writes, as from a feed that stays open:
# its pid and the pipe's writing end; stdout and stderr go to $out.tsv, $out.err.
sub monitor_on_pipe
{
	my ($out) = @_;
	pipe(my $feed_r, my $feed_w) or die "pipe: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0)
	{
		close $feed_w;
		open(STDIN, '<&', $feed_r) or die;
		open(STDOUT, '>', "$out.tsv") or die;
		open(STDERR, '>', "$out.err") or die;
		exec(@monitor, '--tsv') or die "exec: $!";
	}
	close $feed_r;
	binmode $feed_w;
	return ($pid, $feed_w);
}

sub peak_kib { (slurp_file("/proc/$_[0]/status") =~ /^VmHWM:\s+(\d+) kB/m)[0] }

# the logged uses as [recording, stream start, end, wall start, end, ref start, end]
sub uses_of
{
	my ($tsv) = @_;
	my @lines = split /\n/, $tsv;
	my $header = shift @lines // '';
	is($header, join("\t", qw(recording_id stream_start stream_end wall_start wall_end ref_start ref_end similarity semitones tempo)),
		'the TSV header');
	return map { [ split /\t/ ] } @lines;
}

sub check_use
{
	my ($name, $use, $want_end) = @_;
	$use //= [];
	is($use->[0], $battle, "$name: the recording");
	my @off = (abs(($use->[1] // 1e9) - $start), abs(($use->[2] // 1e9) - $want_end),
		abs(($use->[5] // 1e9) - 8), abs(($use->[6] // 1e9) - (8 + $want_end - $start)));
	diag(sprintf('%s: logged stream %s-%s, recording %s-%s; put in stream %.2f-%.2f, recording 8-%.2f',
		$name, map({ $_ // '?' } @$use[1, 2, 5, 6]), $start, $want_end, 8 + $want_end - $start));
	ok(!(grep { $_ > $every } @off), "$name: stream and recording times within a step")
	  or diag(sprintf('logged %s, put in stream %.2f-%.2f, recording 8-%.2f',
		join(' ', @$use), $start, $want_end, 8 + $want_end - $start));
	my $iso = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
	ok(($use->[3] // '') =~ $iso && ($use->[4] // '') =~ $iso && $use->[4] ge $use->[3],
		"$name: wall-clock start and end in ISO 8601, in order") or diag("@$use");
}

($rc, $out, $err) = run_with_input(pcm(16000), @monitor, '--tsv');
is($rc, 0, 'monitor reads the stream to its end') or diag($err);
my @uses = uses_of($out);
is(scalar @uses, 1, 'one use logged, none for the notes, speech and noise') or diag($out);
check_use('16 kHz', $uses[0], $end);

($rc, $out, $err) = run_with_input(pcm(44100), @monitor, '--rate', '44100', '--json');
is($rc, 0, 'monitor at --rate 44100') or diag($err);
my @json = grep { /\S/ } split /\n/, $out;
is(scalar @json, 1, 'one JSON line') or diag($out);
my %u = ($json[0] // '') =~ /"(\w+)": "?([^",}]+)"?/g;
check_use('44.1 kHz, JSON', [ @u{qw(recording_id stream_start stream_end wall_start wall_end ref_start ref_end)} ], $end);

# a live stream stopped while the excerpt plays: the open use is logged
sox("$dir/notes1.wav", "$dir/speech.wav", "$dir/excerpt.wav", "$dir/open.wav");
open(my $fh, '<:raw', pcm(16000, "$dir/open.wav")) or die;
my $pcm = do { local $/; <$fh> };
close $fh;
my ($pid, $feed_w) = monitor_on_pipe("$dir/stopped");
print $feed_w $pcm;    # returns with at most a pipe buffer (2 s of audio) unread; the feed stays open
select(undef, undef, undef, 10);    # time to read and identify the rest (well under a second unloaded)
kill 'TERM', $pid;
waitpid($pid, 0);
is($? >> 8, 0, 'SIGTERM ends monitor cleanly');
close $feed_w;
my $tsv = slurp_file("$dir/stopped.tsv");
like(slurp_file("$dir/stopped.err"), qr/stopped by signal 15/, 'saying so');
@uses = uses_of($tsv);
is(scalar @uses, 1, 'the use still heard is logged') or diag($tsv);
check_use('stopped by SIGTERM', $uses[0], $end);

# bounded memory: ten minutes of notes not in the catalogue, the peak
# resident size read after the first minute and after the tenth
SKIP:
{
	skip 'no /proc', 4 unless -r "/proc/self/status";
	write_notes("$dir/minute.wav", 60, 16000, 3);
	open(my $mfh, '<:raw', pcm(16000, "$dir/minute.wav")) or die;
	my $minute = do { local $/; <$mfh> };
	close $mfh;
	my ($mpid, $mw) = monitor_on_pipe("$dir/long");
	print $mw $minute;
	my $after_one = peak_kib($mpid);
	print $mw $minute for 2 .. 10;
	my $after_ten = peak_kib($mpid);
	close $mw;
	waitpid($mpid, 0);
	is($? >> 8, 0, 'ten minutes of stream read') or diag(slurp_file("$dir/long.err"));
	diag("peak resident size: $after_one kB after one minute, $after_ten kB after ten");
	ok($after_ten - $after_one < 2048, 'memory does not grow with the stream (under 2 MiB more)');
	is(scalar(uses_of(slurp_file("$dir/long.tsv"))), 0, 'and nothing is logged for the notes');
}

# bad input
($rc, undef, $err) = run_with_input(\'', @monitor, '--window', '1', '--every', '3');
is($rc, 2, '--every longer than --window is a usage error');
like($err, qr/--every \(3 s\) must be at most --window/, 'saying why');
($rc, undef, $err) = run_with_input(\'', @monitor, '--rate', '16k');
is($rc, 2, 'a malformed --rate is a usage error');
($rc, undef, $err) = run_with_input(\'', @monitor, '--catalogue', 'recordings');
is($rc, 1, 'a table that is not a catalogue is refused before any audio');
like($err, qr/catalogue "recordings" is not registered/, 'naming it');
($rc, $out, $err) = run_with_input(\"\x01\x02\x03", @monitor, '--tsv');
is($rc . (scalar uses_of($out)), '00', 'a stream shorter than a segment logs nothing') or diag($err);

$node->stop;
done_testing();
