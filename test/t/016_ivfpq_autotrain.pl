# VACUUM trains an ivfpq index created on an empty table once it holds
# enough rows (src/ivfpq/ivfpqautotrain.c): a crash in the middle of the
# training leaves the flat index, whole; rows inserted by another session
# while it trains are all found afterwards; a streaming standby answers
# through the trained index as the primary does; a later VACUUM frees the old
# flat pages and inserts reuse them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my ($primary, $standby) = ivfpq_primary_and_standby('ivfpq_autotrain');

my $point = ivfpq_point();
sub insert_rows
{
	my ($from, $to) = @_;
	$primary->safe_psql('postgres', qq{
		INSERT INTO seg SELECT s, $point FROM generate_series($from, $to) s, generate_series(1, 32) i GROUP BY s});
}

# waits until the server log, from offset on, matches re
sub wait_for_log_line
{
	my ($node, $re, $offset) = @_;
	for (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
	{
		return 1 if substr(slurp_file($node->logfile), $offset) =~ $re;
		usleep(100_000);
	}
	return 0;
}

# a VACUUM of seg in its own session that pauses for `pause` after writing the
# new lists; returns the session once the pause has begun
sub start_vacuum
{
	my ($pause) = @_;
	my $offset = -s $primary->logfile;
	my $session = $primary->background_psql('postgres', on_error_stop => 0);
	$session->query_until(qr/started/, qq{
		SET ivfpq.debug_autotrain_pause = '$pause';
		\\echo started
		VACUUM seg;
	});
	wait_for_log_line($primary, qr/"seg_fp": autotrain pausing/, $offset)
	  or die 'the training did not reach its pause';
	return $session;
}

$primary->safe_psql('postgres', q{
	CREATE TABLE seg (id int PRIMARY KEY, fp fingerprint(32));
	CREATE INDEX seg_fp ON seg USING ivfpq (fp) WITH (lists = 8, m = 8);
});
insert_rows(1, 2000);
is($primary->safe_psql('postgres', q{SELECT lists, entries FROM ivfpq_check('seg_fp')}),
	'1|2000', 'created on the empty table, the index is flat');

my $plan = q{SET enable_seqscan = off; EXPLAIN (COSTS OFF)
	SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1) LIMIT 10};
my $top10 = q{
	SELECT q.id, (SELECT array_agg(id) FROM (SELECT s.id FROM seg s ORDER BY s.fp <#> q.fp LIMIT 10) a)
	FROM seg q WHERE q.id IN (1, 7, 1500, 2100, 2222, 2450) ORDER BY q.id};
my $through_index = "SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 1000; $top10";
my $exact = "SET enable_indexscan = off; $top10";
# every row reachable exactly once when all lists are probed
my $consistency = q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 0;
	SELECT count(*) = count(DISTINCT id) AND count(*) = (SELECT count(*) FROM seg)
	FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1) LIMIT 100000) s};

# --- a cancel in the middle of the training ---------------------------------
my $vacuum = start_vacuum('10min');
$primary->safe_psql('postgres',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%VACUUM seg%' AND pid <> pg_backend_pid()});
$vacuum->query('SELECT 1');
like($vacuum->{stderr}, qr/canceling statement due to user request/, 'the training is cancelled');
$vacuum->quit;
is($primary->safe_psql('postgres', q{SELECT lists, entries FROM ivfpq_check('seg_fp')}),
	'1|2000', 'after the cancel the index is the flat one, whole');

# the cancelled training's blocks are reached by no chain; the next VACUUM
# frees them (here one that does not train again) for inserts to reuse
cmp_ok($primary->safe_psql('postgres', q{SELECT unreached_pages FROM ivfpq_check('seg_fp')}),
	'>', 0, 'the cancelled training left blocks no chain reaches');
my ($rc, $out, $err) = $primary->psql('postgres', q{
	ALTER INDEX seg_fp SET (autotrain = off);
	VACUUM seg;
	ALTER INDEX seg_fp RESET (autotrain);
	CREATE EXTENSION pg_freespacemap;
	SELECT count(*) FROM pg_freespace('seg_fp') WHERE avail > 0});
my ($freed) = $err =~ /NOTICE:  ivfpq index "seg_fp": freed (\d+) pages of an unfinished training/;
ok(defined $freed && $freed > 0, 'VACUUM frees the pages of the cancelled training')
  or diag($err);
is($out, $freed // -1, 'and records them in the free space map');
is($primary->safe_psql('postgres', q{SELECT lists, entries FROM ivfpq_check('seg_fp')}),
	'1|2000', 'the flat index is whole after the cancelled training is reclaimed');

# --- a crash in the middle of the training ----------------------------------
$vacuum = start_vacuum('10min');
insert_rows(2001, 2200);
$primary->stop('immediate');
$vacuum->{run}->kill_kill;
$primary->start;

like($primary->safe_psql('postgres', $plan), qr/Index Scan using seg_fp/, 'the plan uses the index');
is($primary->safe_psql('postgres', q{
	SELECT lists, entries = (SELECT count(*) FROM seg), unreached_pages > 0 FROM ivfpq_check('seg_fp')}),
	'1|t|t', 'after the crash the index is the flat one, whole; the new lists are unreached');
is($primary->safe_psql('postgres', $through_index), $primary->safe_psql('postgres', $exact),
	'after the crash the index answers as an exact scan');
is($primary->safe_psql('postgres', $consistency), 't', 'after the crash every row is reached once');

# --- training again, with inserts while it runs ------------------------------
# a cursor declared before the switch, fetched after it
like($primary->safe_psql('postgres', q{SET enable_seqscan = off; EXPLAIN (COSTS OFF)
	SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1)}),
	qr/Index Scan using seg_fp/, "the cursor's plan uses the index");
my $cursor = $primary->background_psql('postgres');
$cursor->query_safe(q{
	BEGIN ISOLATION LEVEL REPEATABLE READ;
	SET LOCAL enable_seqscan = off; SET LOCAL ivfpq.rerank = 0;
	DECLARE c CURSOR FOR SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1);
});
# a scan begun before the switch and rescanned after it (a subplan, one
# rescan per outer row; the second row waits until the training is done)
my $nearest = q{
	SELECT q.id, (SELECT s.id FROM seg s ORDER BY s.fp <#> q.fp LIMIT 1)
	FROM (SELECT id, fp FROM seg WHERE id IN (1, 2, 3) ORDER BY id) q,
		LATERAL (SELECT pg_sleep(CASE WHEN q.id = 2 THEN 20 ELSE 0 END)) z};
like($primary->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $nearest"),
	qr/SubPlan.*\n.*\n.*Index Scan using seg_fp/s, 'the subplan uses the index');
my $rescans = $primary->background_psql('postgres', on_error_stop => 0);
$rescans->query_until(qr/started/, qq{
	SET enable_seqscan = off;
	SET ivfpq.rerank = 0;
	\\echo started
	$nearest;
});
$vacuum = start_vacuum('5s');
insert_rows(2201, 2500);
$vacuum->query('SELECT 1');
like($vacuum->{stderr}, qr/NOTICE:  ivfpq index "seg_fp" trained: 8 lists from 2500 rows/,
	'VACUUM trains the index with the rows inserted meanwhile');
like($vacuum->{stderr}, qr/NOTICE:  ivfpq index "seg_fp": freed \d+ pages of an unfinished training/,
	'first it frees the pages of the training the crash cut short');
$vacuum->quit;
my ($rescanned) = $rescans->query('SELECT 1');
is($rescanned . '|' . $rescans->{stderr}, "1|1\n2|2\n3|3\n1|",
	'rescans of a scan begun before the switch read the flat pages, intact');
$rescans->quit;
my @before_switch = split /\n/, $cursor->query_safe('FETCH ALL FROM c');
$cursor->query_safe('COMMIT');
$cursor->quit;
my %distinct = map { $_ => 1 } @before_switch;
is(scalar(@before_switch) . '|' . scalar(keys %distinct), '2200|2200',
	'a cursor declared before the switch returns every row of its snapshot once');
is($primary->safe_psql('postgres', q{SELECT lists, entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	'8|t', 'ivfpq_check passes on the trained index');
is($primary->safe_psql('postgres', qq{
	SET enable_seqscan = off; SET ivfpq.probes = 8;
	SELECT count(*) FROM seg r WHERE r.id > 2200
	  AND (SELECT s.id FROM seg s ORDER BY s.fp <#> r.fp LIMIT 1) = r.id}),
	'300', 'every row inserted during the training is found');
is($primary->safe_psql('postgres', $consistency), 't', 'every row is reached once');
like($primary->safe_psql('postgres', $plan), qr/Index Scan using seg_fp/, 'the plan uses the trained index');
my $on_primary = $primary->safe_psql('postgres', $through_index);
is($on_primary, $primary->safe_psql('postgres', $exact), 'the trained index answers as an exact scan');

# --- the standby --------------------------------------------------------------
$primary->wait_for_catchup($standby);
like($standby->safe_psql('postgres', $plan), qr/Index Scan using seg_fp/, 'the standby plans the index');
is($standby->safe_psql('postgres', $through_index), $on_primary,
	'the standby answers through the trained index as the primary does');
is($standby->safe_psql('postgres', q{SELECT lists, entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	'8|t', 'ivfpq_check passes on the standby');

# --- the old flat pages are freed and reused ---------------------------------
insert_rows(2501, 2600);
$primary->safe_psql('postgres', 'VACUUM seg');
my $size = $primary->safe_psql('postgres', q{SELECT pg_relation_size('seg_fp')});
# about 24 pages of entries, fewer than the flat list had
insert_rows(3001, 13000);
is($primary->safe_psql('postgres', q{SELECT pg_relation_size('seg_fp')}), $size,
	'inserts reuse the freed flat pages instead of extending the index');
is($primary->safe_psql('postgres', q{SELECT lists, entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	'8|t', 'ivfpq_check passes after the reuse');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $through_index), $primary->safe_psql('postgres', $through_index),
	'the standby answers as the primary after the reuse');

$standby->stop;
$primary->stop;
done_testing();
