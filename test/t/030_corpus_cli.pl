# The corpus tools from the command line, on files the test writes:
# `sampleid manifest` measures and splits them reproducibly and refuses what
# it cannot read; `sampleid eval` runs the identification benchmark end to
# end with a randomly initialised model (the pipeline is under test, not the
# model) and rejects bad options.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;

my $dir = PostgreSQL::Test::Utils::tempdir();

sub run_cli
{
	my @cmd = @_;
	my ($in, $out, $err) = ('', '', '');
	if (ref $cmd[0] eq 'SCALAR') { $in = ${ shift @cmd }; }
	my $ok = IPC::Run::run(\@cmd, '<', \$in, '>', \$out, '2>', \$err);
	return ($ok, $out // '', $err // '');
}

mkdir "$dir/music" or die;
mkdir "$dir/music/pkg" or die;
my $list = '';
for my $t (0 .. 9)
{
	write_notes("$dir/music/pkg/track$t.wav", 6, 16000, 17 + $t);
	$list .= "pkg\tpkg/track$t.wav\n";
}

my @manifest = ($cli, 'manifest', '--root', "$dir/music", '--prefix', 'music/',
	'--seed', '7', '--decode-check', '--splits', 'reference=0.5,validation=0.1,train');
my ($ok, $out, $err) = run_cli(\$list, @manifest);
ok($ok, 'manifest: measures 10 files') or diag($err);
my @rows = grep { !/^#/ } split /\n/, $out;
is($rows[0], "package\tpath\tduration_s\tsample_rate\tchannels\tsplit", 'manifest: header');
is(scalar(@rows), 11, 'manifest: one row per file');
like($rows[1], qr{^pkg\tmusic/pkg/track0\.wav\t6\.000\t16000\t1\t(reference|validation|train)$},
	'manifest: path, duration, rate, channels, split');
is(scalar(grep { /\treference$/ } @rows), 5, 'manifest: half of the tracks are reference');
my ($ok2, $again) = run_cli(\scalar(join '', reverse split /^/, $list), @manifest);
is($again, $out, 'manifest: the same seed gives the same manifest, whatever the listing order');
open(my $mf, '>', "$dir/manifest.tsv") or die;
print $mf $out;
close $mf;

($ok, $out, $err) = run_cli(\"pkg\tpkg/missing.wav\n", $cli, 'manifest', '--root', "$dir/music");
ok(!$ok, 'manifest: an unreadable file fails the run');
like($err, qr/missing\.wav/, 'manifest: and is named');

# the noise manifest: one test clip (speech-like tones will do)
write_notes("$dir/noise.wav", 2, 16000, 99);
open(my $nf, '>', "$dir/noise.tsv") or die;
print $nf "package\tpath\tduration_s\tsample_rate\tchannels\tsplit\n",
  "pkg\tnoise.wav\t2.000\t16000\t1\ttest\n";
close $nf;

($ok, $out, $err) = run_cli($cli, 'init-model', '--out', "$dir/untrained.sidm", '--seed', '3');
ok($ok, 'init-model writes a model') or diag($err);

my @eval = ($cli, 'eval', '--model', "$dir/untrained.sidm", '--manifest', "$dir/manifest.tsv",
	'--noise', "$dir/noise.tsv", '--data', $dir, '--queries', '4', '--lengths', '1,2',
	'--snrs', 'inf,10', '--quiet');
($ok, $out, $err) = run_cli(@eval);
ok($ok, 'eval: runs') or diag($err);
like($err, qr/UNTRAINED/, 'eval: warns that the model is untrained');
like($out, qr/reference: split "reference" of .*, 5 tracks/, 'eval: reports the reference set');
like($out, qr/3\.52 MiB per hour/, 'eval: reports the storage per hour at a 0.5 s hop');
like($out, qr/\| query \| inf dB \| 10 dB \|/, 'eval: one column per SNR');
like($out, qr/^\| 2 s \| [\d.]+ \/ [\d.]+ \| [\d.]+ \/ [\d.]+ \|$/m, 'eval: one row per query length');
like($out, qr/background noise and room reverberation/, 'eval: the reverberation table too');
my ($ok3, $out2) = run_cli(@eval);
# the CPU times it reports are measurements, not part of the tables
my $tables = qr/encoder [\d.]+ s, search [\d.]+ s|[\d.]+ ms CPU per|\([\d.]+ ms per second of query\)/;
is($out2 =~ s/$tables//gr, $out =~ s/$tables//gr, 'eval: the same seed reproduces the tables');

($ok, $out, $err) = run_cli($cli, 'eval', '--model', "$dir/untrained.sidm",
	'--manifest', "$dir/manifest.tsv", '--noise', "$dir/noise.tsv", '--data', $dir,
	'--split', 'nothing', '--quiet');
ok(!$ok, 'eval: a split without tracks fails');
like($err, qr/no "nothing" track/, 'eval: and says why');
($ok, $out, $err) = run_cli($cli, 'eval', '--model', "$dir/untrained.sidm", '--k', 'many');
ok(!$ok, 'eval: a bad number is refused');
($ok, $out, $err) = run_cli($cli, 'eval', '--model', "$dir/nonexistent.sidm");
ok(!$ok, 'eval: a missing model fails');

done_testing();
