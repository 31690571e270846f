# Cancel and terminate during a long sampleid_embed (issue 15): a
# statement_timeout ends it with 57014 and the backend goes on; a
# pg_terminate_backend makes the backend exit.  How long each took after the
# signal is printed (docs/testing.md quotes it), not asserted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;
use IPC::Run;
use Time::HiRes qw(time sleep);

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";

my $node = PostgreSQL::Test::Cluster->new('embed_cancel');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');

# 300 s of 16 kHz tones: about 600 windows of encoder work
my $rate = 16000;
my $seconds = 300;
my $data = pack('s<*', map { int(6000 * sin($_ * 0.031) + 3000 * sin($_ * 0.0071 * ($_ % 97))) } 1 .. $rate * $seconds);
my $path = $node->basedir . '/long.wav';
write_pcm_wav($path, $rate, 1, $data);
my $embed = "SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$path'))";

# the whole embed, for scale
my $t0 = time();
my $windows = $node->safe_psql('postgres', $embed);
my $full = time() - $t0;
note(sprintf('whole embed: %d windows in %.2f s', $windows, $full));

# cancel: statement_timeout at a quarter of the whole
my $timeout_ms = int(1000 * $full / 4) + 1;
my ($out, $err);
$t0 = time();
$node->psql('postgres', qq{
	\\set VERBOSITY sqlstate
	SET statement_timeout = $timeout_ms;
	$embed;
	RESET statement_timeout;
	SELECT 'after', 1;
}, stdout => \$out, stderr => \$err, on_error_stop => 0);
my $cancelled = time() - $t0;
like($err, qr/ERROR:\s+57014/, 'statement_timeout ends a long embed with 57014');
like($out, qr/^after\|1$/m, 'the same backend then runs the next statement');
note(sprintf('cancel: timeout %d ms, statement ended after %.3f s, %.3f s after the timeout',
		$timeout_ms, $cancelled, $cancelled - $timeout_ms / 1000));

# terminate: pg_terminate_backend from another session mid-embed
my ($tout, $terr) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-v', 'VERBOSITY=sqlstate', '-d', $node->connstr('postgres'), '-c', $embed ],
	'>', \$tout, '2>', \$terr);
my $pid = '';
for (1 .. 100)
{
	$pid = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%sampleid_embed%' AND state = 'active' AND pid <> pg_backend_pid()});
	last if $pid ne '';
	sleep(0.05);
}
ok($pid ne '', 'the embed is running');
sleep($full / 4);
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$h->finish;
my $terminated = time() - $t0;
like($terr, qr/57P01|terminating connection/, 'pg_terminate_backend ends the embed');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'the backend exits');
note(sprintf('terminate: the client saw the end %.3f s after the signal', $terminated));

$node->stop;
done_testing();
