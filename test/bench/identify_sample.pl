# The setup of test/bench/identify_sample.sh (docs/benchmarks.md, "Sample
# mode: the cost of the copies"), as a TAP file so that it gets a private
# cluster from PostgreSQL::Test::Cluster:
#
#   cp test/bench/identify_sample.pl test/t/zz_identify_sample.pl
#   SAMPLEID_SUITES=tap SAMPLEID_TAP='zz*' nice -n 10 bash scripts/test.sh
#   rm test/t/zz_identify_sample.pl
#
# A catalogue of 12 Wesnoth excerpts (40 s from 30 s in) fingerprinted with
# $BENCH_MODEL (default fp), each query $BENCH_REPEATS times (default 2);
# the queries: 10 s of 8 of them transposed by
# +-1 .. 3 semitones under the drum loop of 041_sample_identify.pl (in_*),
# and, not in the catalogue (out_*), 10 s of 12 other tracks alone and under
# the drums, speech and brown noise.
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
my $model = $ENV{BENCH_MODEL} // 'fp';
plan skip_all => "no model $repo/models/$model.sidm" unless -f "$repo/models/$model.sidm";
plan skip_all => "no Wesnoth music in $music" unless -f "$music/battle.ogg";
my $dir = PostgreSQL::Test::Utils::tempdir();

my @cat = qw(battle knolls loyalists elvish-theme heroes_rite northerners revelation the_deep_path
  wanderer vengeful suspense transience);
my @out = qw(silvan_sanctuary journeys_end legends_of_the_north love_theme main_menu traveling_minstrels
  underground weight_of_revenge the_city_falls breaking_the_chains casualties_of_war frantic);
mkdir "$dir/catalogue" or die;
mkdir "$dir/q" or die;
sox("$music/$_.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/catalogue/$_.wav", 'trim', '30', '40') for @cat;
write_drums("$dir/drums.wav", 10, 16000);
my @shifts = (1, 2, 3, -2, -1, -3, 2, 1);
for my $i (0 .. $#shifts)
{
	my ($t, $s) = ($cat[$i], $shifts[$i]);
	sox("$dir/catalogue/$t.wav", "$dir/x.wav", 'trim', 10, 10, 'pitch', 100 * $s);
	sox('-m', "$dir/x.wav", "$dir/drums.wav", "$dir/q/in_${t}_$s.wav", 'gain', '-n', '-1');
}
for my $t (@out)
{
	sox("$music/$t.ogg", '-r', '16000', '-c', '1', '-b', '16', "$dir/q/out_$t.wav", 'trim', '30', '10');
	sox('-m', "$dir/q/out_$t.wav", "$dir/drums.wav", "$dir/q/out_${t}_drums.wav", 'gain', '-n', '-1');
}
write_no_match($dir);
rename("$dir/$_.wav", "$dir/q/out_$_.wav") or die for qw(speech noise);

my $node = PostgreSQL::Test::Cluster->new('bench');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
my ($rc, $res, $err) = run_with_input(\'', $cli, 'ingest', '--dsn', $node->connstr('postgres'),
	'--model-dir', "$repo/models", '--model', $model, '--create', "$dir/catalogue");
is($rc, 0, 'the catalogue is ingested') or diag($err);
diag('before: ' . `uptime`);
($rc, $res, $err) = run_with_input(\'', 'bash', "$repo/test/bench/identify_sample.sh",
	$node->connstr('postgres'), "$dir/q", $ENV{BENCH_REPEATS} // 2);
diag("model $model\n$res$err");
diag('after: ' . `uptime`);
is($rc, 0, 'the benchmark ran');
$node->stop;
done_testing();
