# A big ivfpq build can be cancelled: statement_timeout stops it during
# k-means training with SQLSTATE 57014, and pg_terminate_backend ends it.
# FAISS runs with signals blocked, so the build used to run training to its
# end first (issue 13: a 2 s timeout took 18.4 s).  Times are printed, not
# asserted tightly: this machine is shared.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('ivfpq_cancel');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'sampleid'
maintenance_work_mem = 512MB
});
$node->start;

# 100 000 rows: k-means of 1500 lists on a 96 000-row sample takes tens of seconds
$node->safe_psql('postgres', q{
	CREATE EXTENSION sampleid;
	CREATE TABLE big (id int, fp fingerprint(32));
	INSERT INTO big SELECT s, fingerprint_normalize(array_agg(sin(s * 0.37 + i * (s % 97)) ORDER BY i)::fingerprint)
		FROM generate_series(1, 100000) s, generate_series(1, 32) i GROUP BY s;
});

my $start = time;
my ($rc, $stdout, $stderr) = $node->psql('postgres', q{
	\set VERBOSITY verbose
	SET statement_timeout = '2s';
	CREATE INDEX big_fp ON big USING ivfpq (fp) WITH (lists = 1500, m = 8)});
my $elapsed = time - $start;
like($stderr, qr/57014: canceling statement due to statement timeout/, 'statement_timeout cancels the build');
note(sprintf('cancelled after %.1f s', $elapsed));
cmp_ok($elapsed, '<', 15, 'the build ended soon after the timeout');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_fp'}), '0',
	'no index is left behind');

# pg_terminate_backend ends a build in another session
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_until(qr/started/, q{
	\echo started
	CREATE INDEX big_fp ON big USING ivfpq (fp) WITH (lists = 1500, m = 8);
});
$node->poll_query_until('postgres',
	qq{SELECT phase LIKE 'building index%' FROM pg_stat_progress_create_index WHERE pid = $pid})
  or die 'the build did not start';
$start = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres', qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid})
  or die 'the backend did not end';
$elapsed = time - $start;
note(sprintf('terminated after %.1f s', $elapsed));
cmp_ok($elapsed, '<', 15, 'pg_terminate_backend ends the build soon');
$session->{run}->kill_kill;

$node->stop('fast');
done_testing();
