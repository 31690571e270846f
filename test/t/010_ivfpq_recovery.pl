# An ivfpq index survives a crash: the build (full-page WAL) and every later
# insert and VACUUM (generic WAL) replay, queries return the same rows, and
# the index stays consistent (each row reachable exactly once).  An unlogged
# index comes back empty and usable.  An index with refine codes replays its
# refine pages: inserts after the build, VACUUM, inserts into freed slots.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my $node = PostgreSQL::Test::Cluster->new('ivfpq_crash');
$node->init;
$node->append_conf('postgresql.conf', "checkpoint_timeout = 1h\nmax_wal_size = 1GB\n");
$node->start;

# clustered, deterministic fingerprints: 10 centres plus structured noise
my $point = q{fingerprint_normalize(array_agg(sin((s % 10) * 13 + i * 0.7) + 0.4 * sin(s * i * 1.3) ORDER BY i)::fingerprint)};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION sampleid;
	CHECKPOINT;
	CREATE TABLE seg (id int PRIMARY KEY, fp fingerprint(64));
	INSERT INTO seg SELECT s, $point FROM generate_series(1, 3000) s, generate_series(1, 64) i GROUP BY s;
	CREATE INDEX seg_fp ON seg USING ivfpq (fp) WITH (lists = 10, m = 8);
	INSERT INTO seg SELECT s, $point FROM generate_series(3001, 3600) s, generate_series(1, 64) i GROUP BY s;
	DELETE FROM seg WHERE id % 7 = 0;
	VACUUM seg;
	CREATE UNLOGGED TABLE useg AS SELECT * FROM seg;
	CREATE INDEX useg_fp ON useg USING ivfpq (fp) WITH (lists = 10, m = 8);
});

create_refined_copy($node, 'seg', 'rseg', 64, 'lists = 10, m = 8', 3000, 5);

my $queries = q{
	SET enable_seqscan = off; SET ivfpq.probes = 3;
	SELECT q.id, (SELECT array_agg(id) FROM (SELECT s.id FROM seg s ORDER BY s.fp <#> q.fp LIMIT 10) a)
	FROM seg q WHERE q.id IN (1, 2, 3, 3001, 3333) ORDER BY q.id;
};
# every row reachable exactly once when all lists are probed
my $consistency = q{
	SET enable_seqscan = off; SET ivfpq.probes = 10; SET ivfpq.rerank = 0;
	SELECT count(*) = count(DISTINCT id) AND count(*) = (SELECT count(*) FROM seg)
	FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 1) LIMIT 100000) s;
};

(my $rqueries = $queries) =~ s/FROM seg s /FROM rseg s /;
(my $rconsistency = $consistency) =~ s/FROM seg/FROM rseg/g;

my $before = $node->safe_psql('postgres', $queries);
my $rbefore = $node->safe_psql('postgres', $rqueries);
like($rbefore, qr/^1\|\{1,/, 'refine codes: a row is its own nearest neighbour');
is($node->safe_psql('postgres', $rconsistency), 't', 'refine codes: index consistent before the crash');
like($before, qr/^1\|\{1,/, 'a row is its own nearest neighbour');
is($node->safe_psql('postgres', $consistency), 't', 'index consistent before the crash');

$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres', $queries), $before, 'same results after crash recovery');
is($node->safe_psql('postgres', $rqueries), $rbefore, 'refine codes: same results after crash recovery');
is($node->safe_psql('postgres', $rconsistency), 't', 'refine codes: index consistent after crash recovery');
is($node->safe_psql('postgres', q{SELECT entries = (SELECT count(*) FROM rseg) FROM ivfpq_check('rseg_fp')}),
	't', 'refine codes: ivfpq_check passes after crash recovery');
is($node->safe_psql('postgres', $consistency), 't', 'index consistent after crash recovery');
is($node->safe_psql('postgres', q{SELECT lists, entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	'10|t', 'ivfpq_check passes after crash recovery');

$node->safe_psql('postgres', qq{
	INSERT INTO seg SELECT s, $point FROM generate_series(5001, 5100) s, generate_series(1, 64) i GROUP BY s;
});
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 5050) LIMIT 1}),
	'5050', 'inserts after recovery are found');
is($node->safe_psql('postgres', $consistency), 't', 'index consistent after more inserts');
is($node->safe_psql('postgres', q{SELECT entries = (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	't', 'ivfpq_check passes after more inserts');

# the unlogged index was reset to its (flat, empty) init fork
is($node->safe_psql('postgres', 'SELECT count(*) FROM useg'), '0', 'unlogged table is empty after the crash');
$node->safe_psql('postgres', 'INSERT INTO useg SELECT * FROM seg WHERE id <= 100');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT id FROM useg ORDER BY fp <#> (SELECT fp FROM seg WHERE id = 43) LIMIT 1}),
	'43', 'unlogged index usable after the crash');
is($node->safe_psql('postgres', q{SELECT lists, entries FROM ivfpq_check('useg_fp')}),
	'1|86', 'the unlogged index restarted flat from its init fork');

$node->stop;
done_testing();
