# The shipped default model: `make install` puts models/fp.sidm where the
# extension looks by default ($sharedir/extension/sampleid_models), so
# sampleid_embed(audio) works with no model argument and no setting, is
# marked trained, and gives the same fingerprints as `sampleid embed --model
# models/fp.sidm` on the same audio.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
my $model = "$repo/models/fp.sidm";
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $model" unless -f $model;

my $dir = PostgreSQL::Test::Utils::tempdir();

# two seconds of a tone sweep at 44.1 kHz, 16-bit mono WAV
my $rate = 44100;
my $n = 2 * $rate;
my $pcm = pack('s<*', map {
	my $t = $_ / $rate;
	int(8000 * sin(2 * 3.14159265 * (300 + 400 * $t) * $t))
} 0 .. $n - 1);
my $wav = "$dir/sweep.wav";
write_pcm_wav($wav, $rate, 1, $pcm);

my $node = PostgreSQL::Test::Cluster->new('default_model');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');

is($node->safe_psql('postgres',
	q{SELECT name || ' ' || trained || ' ' || (error IS NULL) FROM sampleid_models() WHERE name = 'fp'}),
	'fp true true', 'the installed default model fp is listed as trained and loads');

my $rows = $node->safe_psql('postgres', qq{
	SELECT seg, t_start, fp::text FROM sampleid_embed(pg_read_binary_file('$wav')) ORDER BY seg});
my @sql = map { [split /\|/] } split /\n/, $rows;
is(scalar @sql, 3, 'sampleid_embed(audio) with no model argument: three segments from 2 s');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$wav'))
	WHERE abs(fingerprint_norm(fp) - 1) < 1e-5 AND fingerprint_dims(fp) = 128}),
	'3', 'unit-norm 128-d fingerprints');

my ($out, $err);
my $ok = IPC::Run::run([ $cli, 'embed', '--model', $model, $wav ], '>', \$out, '2>', \$err);
ok($ok, 'sampleid embed with the repository model runs') or diag($err);
my @cli = map { [split /\t/] } split /\n/, $out // '';
my $maxdiff = @cli == @sql ? 0 : 1e9;
for my $i (0 .. $#cli)
{
	my @a = split /,/, ($cli[$i][3] =~ s/[\[\]]//gr);
	my @b = split /,/, (($sql[$i][2] // '') =~ s/[\[\]]//gr);
	for my $j (0 .. $#a)
	{
		my $d = abs($a[$j] - ($b[$j] // 1e9));
		$maxdiff = $d if $d > $maxdiff;
	}
}
cmp_ok($maxdiff, '<', 1e-5,
	"the default model is the shipped models/fp.sidm (max difference $maxdiff)");

$node->stop;
done_testing();
