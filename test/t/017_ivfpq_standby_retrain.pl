# A query on a streaming standby that began reading a flat ivfpq index before
# VACUUM on the primary trained it (src/ivfpq/ivfpqautotrain.c): the primary
# frees the old flat pages once no snapshot it knows of can read them.
# Without hot_standby_feedback it does not know of the standby's, so a rescan
# there may find them freed: it fails with SQLSTATE 40001 and a hint to run
# it again (docs/ivfpq.md, "Self-training"), never a wrong answer.  With
# hot_standby_feedback the pages are kept and the rescan answers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my ($primary, $standby) = ivfpq_primary_and_standby('ivfpq_retrain', "hot_standby_feedback = off\n");

my $point = ivfpq_point();

# One round: a flat index of 2000 rows on a new table; on the standby a query
# whose subplan scans the index for row 1, sleeps, and rescans it for rows 2
# and 3; meanwhile the primary trains the index, then VACUUMs again, which
# frees the flat pages if it may.  Returns the standby session's output and
# its stderr.
sub retrain_under_standby_scan
{
	my ($table) = @_;
	$primary->safe_psql('postgres', qq{
		CREATE TABLE $table (id int PRIMARY KEY, fp fingerprint(32));
		CREATE INDEX ${table}_fp ON $table USING ivfpq (fp) WITH (lists = 8, m = 8);
		INSERT INTO $table SELECT s, $point FROM generate_series(1, 2000) s, generate_series(1, 32) i GROUP BY s;
	});
	is($primary->safe_psql('postgres', qq{SELECT lists FROM ivfpq_check('${table}_fp')}), '1',
		"$table: the index is flat");
	$primary->wait_for_catchup($standby);

	my $nearest = qq{
		SELECT q.id, (SELECT s.id FROM $table s ORDER BY s.fp <#> q.fp LIMIT 1)
		FROM (SELECT id, fp FROM $table WHERE id IN (1, 2, 3) ORDER BY id) q,
			LATERAL (SELECT pg_sleep(CASE WHEN q.id = 2 THEN 15 ELSE 0 END)) z};
	like($standby->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $nearest"),
		qr/SubPlan.*\n.*\n.*Index Scan using ${table}_fp/s, "$table: the standby's subplan uses the index");
	my $session = $standby->background_psql('postgres', on_error_stop => 0);
	$session->query_until(qr/started/, qq{
		\\set VERBOSITY verbose
		SET enable_seqscan = off;
		SET ivfpq.rerank = 0;
		\\echo started
		$nearest;
	});
	# the first scan has read the flat layout once the query sleeps
	$standby->poll_query_until('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'}, '1')
	  or die 'the standby query did not reach its sleep';

	my ($rc, $out, $err) = $primary->psql('postgres', qq{VACUUM $table});
	like($err, qr/NOTICE:  ivfpq index "${table}_fp" trained: 8 lists/, "$table: VACUUM trains the index");
	# a transaction after the switch moves the horizon past it; no heap
	# change, so no recovery conflict holds back the standby's replay
	$primary->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	$primary->safe_psql('postgres', "VACUUM $table");
	$primary->wait_for_catchup($standby);

	my ($answer) = $session->query('SELECT 1');
	my $stderr = $session->{stderr};
	$session->quit;
	return ($answer, $stderr);
}

# --- without hot_standby_feedback ---------------------------------------------
my ($answer, $stderr) = retrain_under_standby_scan('seg_nofeedback');
like($stderr, qr/ERROR:  40001: ivfpq index "seg_nofeedback_fp" was trained while this scan read it/,
	'without feedback the rescan finds the flat pages freed: 40001');
like($stderr, qr/HINT:  Run the query again\./, 'with a hint to run it again');
is($standby->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 8;
	SELECT count(*) FROM seg_nofeedback r WHERE r.id <= 3
	  AND (SELECT s.id FROM seg_nofeedback s ORDER BY s.fp <#> r.fp LIMIT 1) = r.id}),
	'3', 'run again, the query answers through the trained index');

# --- with hot_standby_feedback -------------------------------------------------
$standby->append_conf('postgresql.conf', "hot_standby_feedback = on\n");
$standby->reload;
$standby->poll_query_until('postgres', q{SHOW hot_standby_feedback}, 'on') or die;
# the walsender carries the standby's xmin once feedback has been sent
$primary->poll_query_until('postgres',
	q{SELECT backend_xmin IS NOT NULL FROM pg_stat_replication}, 't')
  or die 'no feedback from the standby';
($answer, $stderr) = retrain_under_standby_scan('seg_feedback');
is($answer . '|' . $stderr, "1|1\n2|2\n3|3\n1|",
	'with feedback the flat pages are kept and the rescans answer');
is($primary->safe_psql('postgres', q{SELECT lists FROM ivfpq_check('seg_feedback_fp')}), '8',
	'the index was trained meanwhile');

$standby->stop;
$primary->stop;
done_testing();
