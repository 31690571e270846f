# Concurrent inserts, deletes, VACUUM and scans on an ivfpq index (pgbench,
# two clients): no errors, and afterwards every live row is reachable exactly
# once and rows inserted concurrently are found.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my $node = PostgreSQL::Test::Cluster->new('ivfpq_concurrency');
$node->init;
$node->start;

my $point = ivfpq_point();
create_ivfpq_table($node, 'seg');

# small lists fill pages quickly, so inserts extend chains concurrently
$node->pgbench('--no-vacuum --client=2 --transactions=150', 0,
	[qr{processed: 300/300}], [qr{^$}], 'concurrent inserts, deletes, VACUUM and scans',
	{
		'ivfpq_insert@6' => qq{
\\set s random(100000, 10000000)
INSERT INTO seg SELECT :s, $point FROM (SELECT :s AS s) v, generate_series(1, 32) i GROUP BY s ON CONFLICT DO NOTHING;
},
		'ivfpq_scan@6' => q{
\set q random(1, 2000)
SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = :q) LIMIT 10;
},
		'ivfpq_delete@2' => q{
\set q random(1, 2000)
DELETE FROM seg WHERE id = :q;
},
		'ivfpq_vacuum@1' => q{
VACUUM seg;
},
	});

is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 0;
	SELECT count(*) = count(DISTINCT id) AND count(*) = (SELECT count(*) FROM seg)
	FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1) LIMIT 1000000) s}),
	't', 'every live row reachable exactly once');
# (all lists probed and every candidate re-scored, so the answer is exact;
# compared by distance since some generated rows are near-duplicates; room
# for twice ivfpq.rerank candidates of 24 bytes)
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 100000; SET work_mem = '8MB';
	SELECT count(*) FROM seg q WHERE q.id >= 100000 AND
		(SELECT s.fp <#> q.fp FROM seg s ORDER BY s.fp <#> q.fp LIMIT 1) > (q.fp <#> q.fp) + 1e-6}),
	'0', 'each concurrently inserted row is found as its own nearest neighbour');

$node->stop;
done_testing();
