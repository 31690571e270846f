# A streaming standby replays an ivfpq index (build, inserts, VACUUM,
# REINDEX) and answers nearest-neighbour queries through it with the same
# rows as its primary; so does an index with refine codes (refine pages).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my $primary = PostgreSQL::Test::Cluster->new('ivfpq_primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION sampleid');
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('ivfpq_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $point = q{fingerprint_normalize(array_agg(cos((s % 12) * 5 + i * 0.9) + 0.4 * sin(s * i * 0.77) ORDER BY i)::fingerprint)};
$primary->safe_psql('postgres', qq{
	CREATE TABLE seg (id int PRIMARY KEY, fp fingerprint(64));
	INSERT INTO seg SELECT s, $point FROM generate_series(1, 2500) s, generate_series(1, 64) i GROUP BY s;
	CREATE INDEX seg_fp ON seg USING ivfpq (fp) WITH (lists = 12, m = 16);
	INSERT INTO seg SELECT s, $point FROM generate_series(2501, 3000) s, generate_series(1, 64) i GROUP BY s;
	DELETE FROM seg WHERE id % 5 = 0;
	VACUUM seg;
});

create_refined_copy($primary, 'seg', 'rseg', 64, 'lists = 12, m = 16', 2500, 3);

my $queries = q{
	SET enable_seqscan = off; SET ivfpq.probes = 2;
	SELECT q.id, (SELECT array_agg(id) FROM (SELECT s.id FROM seg s ORDER BY s.fp <#> q.fp LIMIT 10) a)
	FROM seg q WHERE q.id IN (1, 7, 2222, 2601, 2999) ORDER BY q.id;
};
my $plan = q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1) LIMIT 10};

$primary->wait_for_catchup($standby);
my $on_primary = $primary->safe_psql('postgres', $queries);
like($standby->safe_psql('postgres', $plan), qr/Index Scan using seg_fp/, 'standby plans the ivfpq index');
is($standby->safe_psql('postgres', $queries), $on_primary, 'standby returns the same rows as the primary');
(my $rqueries = $queries) =~ s/FROM seg s /FROM rseg s /;
my $r_on_primary = $primary->safe_psql('postgres', $rqueries);
like($r_on_primary, qr/^1\|\{1,/, 'refine codes: a row is its own nearest neighbour');
is($standby->safe_psql('postgres', $rqueries), $r_on_primary,
	'refine codes: standby returns the same rows as the primary');
is($standby->safe_psql('postgres', q{SELECT entries = (SELECT count(*) FROM rseg) FROM ivfpq_check('rseg_fp')}),
	't', 'refine codes: ivfpq_check passes on the standby');

$primary->safe_psql('postgres', qq{
	REINDEX INDEX seg_fp;
	INSERT INTO seg SELECT s, $point FROM generate_series(4001, 4100) s, generate_series(1, 64) i GROUP BY s;
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $queries), $primary->safe_psql('postgres', $queries),
	'same rows after REINDEX and more inserts');
is($standby->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 4050) LIMIT 1}),
	'4050', 'standby finds rows inserted after the REINDEX');
is($standby->safe_psql('postgres', q{SELECT lists, entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	'12|t', 'ivfpq_check passes on the standby');

$standby->stop;
$primary->stop;
done_testing();
