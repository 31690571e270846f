# What every `sampleid` subcommand does with bad usage, and the `embed` fixes
# of issue 12: unknown options, stray arguments and integers with junk are
# usage errors (status 2) naming the command; --version and `help COMMAND`
# work; `embed --out` makes its folder and refuses two inputs that would
# write the same files; an unknown model lists the installed ones.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
my $dir = PostgreSQL::Test::Utils::tempdir();

sub run_cli
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, @_ ], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my ($rc, $out, $err) = run_cli('--version');
is($rc, 0, '--version succeeds');
like($out, qr/^sampleid \d+\.\d+\n$/, 'and prints the version');
($rc, $out) = run_cli('help', 'embed');
is($rc, 0, 'help COMMAND succeeds');
like($out, qr/^usage: sampleid embed/, 'and prints that command\'s usage');

for my $case (
	[ [ 'device', 'extra' ], qr/sampleid device: unexpected argument "extra"/ ],
	[ [ 'models', '--model-dir', "$repo/models", 'extra' ], qr/sampleid models: unexpected argument "extra"/ ],
	[ [ 'embed', '--threads', '4x', 'a.wav' ], qr/sampleid embed: --threads wants an integer from 1 to \d+, not "4x"/ ],
	[ [ 'embed', '--batch', '', 'a.wav' ], qr/sampleid embed: --batch wants an integer/ ],
	[ [ 'embed', '--hop', '0.5s', 'a.wav' ], qr/sampleid embed: --hop wants a number/ ],
	[ [ 'embed', '--bogus', 'a.wav' ], qr/unrecognized option '--bogus'/ ],
	[ [ 'init-model', '--out', "$dir/x.sidm", '--k', '3y' ], qr/sampleid init-model: --k wants an integer/ ],
	[ [ 'init-model', '--out', "$dir/x.sidm", 'extra' ], qr/sampleid init-model: unexpected argument "extra"/ ],
	[ [ 'manifest', '--root', $dir, '--min-seconds', '1q' ], qr/sampleid manifest: --min-seconds wants a number/ ],
	[ [ 'manifest', '--root', $dir, 'extra' ], qr/sampleid manifest: unexpected argument "extra"/ ],
	[ [ 'train', 'a.conf', 'b.conf' ], qr/sampleid train: one CONFIG only/ ],
	[ [ 'ingest', '--dsn', '', '--batch', '2x', 'a.wav' ], qr/sampleid ingest: --batch wants an integer/ ],
	[ [ 'delete', 'a.wav' ], qr/sampleid delete: --dsn and at least one PATH are required/ ])
{
	my ($args, $want) = @$case;
	($rc, $out, $err) = run_cli(@$args);
	is($rc, 2, "@$args: a usage error");
	like($err, $want, "@$args: says what is wrong");
}
ok(!-e "$dir/x.sidm", 'a refused init-model writes nothing');

# embed --out
system('sox', '-n', '-r', '16000', '-b', '16', '-c', '1', "$dir/tone.wav", 'synth', '2', 'sine', '440') == 0
  or die 'sox failed';
mkdir "$dir/a";
mkdir "$dir/b";
system('cp', "$dir/tone.wav", "$dir/a/same.wav") == 0 or die;
system('sox', '-n', '-r', '16000', '-b', '16', '-c', '1', "$dir/b/same.wav", 'synth', '2', 'sine', '660') == 0
  or die 'sox failed';
my @embed = ('embed', '--model-dir', "$repo/models");
($rc, $out, $err) = run_cli(@embed, '--out', "$dir/out1", "$dir/a/same.wav", "$dir/b/same.wav");
is($rc, 2, 'two inputs with the same name are refused');
like($err, qr/would both write .*same\.wav\.npy/, 'saying which files would collide');
ok(!-e "$dir/out1", 'and nothing is written');
($rc, $out, $err) = run_cli(@embed, '--out', "$dir/new/deep/out", "$dir/tone.wav", "$dir/a/same.wav");
is($rc, 0, '--out into a folder that does not exist') or diag($err);
ok(-s "$dir/new/deep/out/tone.wav.npy" && -s "$dir/new/deep/out/same.wav.times.npy", 'makes it, with the outputs');
($rc, $out, $err) = run_cli(@embed, '--model', 'no_such_model', "$dir/tone.wav");
is($rc, 1, 'an unknown model fails');
like($err, qr/sampleid embed: no model "no_such_model" in .*; installed: .*\bfp\b/, 'listing the installed models');

done_testing();
