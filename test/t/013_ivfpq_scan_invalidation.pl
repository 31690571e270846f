# A scan keeps working when the index's relcache entry is rebuilt under it:
# another session's INSERT and ANALYZE change the index's reltuples, and the
# invalidation frees the cached index state (rd_amcache) the next time the
# scanning session takes a lock.  The scan reads its own copy of that state;
# it used to read the freed memory (issue 13: an empty FETCH, or a SIGSEGV).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my $node = PostgreSQL::Test::Cluster->new('ivfpq_invalidation');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'sampleid'\n");
$node->start;

my $point = ivfpq_point();
create_ivfpq_table($node, 'items');
$node->safe_psql('postgres', q{
	ANALYZE items;
	CREATE TABLE queries AS SELECT id AS qid, fp AS q FROM items WHERE id <= 5;
});
for my $t (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE TABLE other_$t (x int); INSERT INTO other_$t VALUES ($t)");
}

# rerank = 1: every row is a batch of its own, so the scan outlives many calls
my $session = $node->background_psql('postgres');
$session->query_safe(q{
	BEGIN;
	SET LOCAL enable_seqscan = off;
	SET LOCAL ivfpq.rerank = 1;
	DECLARE c CURSOR FOR SELECT id FROM items ORDER BY fp <#> (SELECT q FROM queries WHERE qid = 2);
});
my $first = $session->query_safe('FETCH 3 FROM c');
is(scalar(split /\n/, $first), 3, 'the cursor returns its first rows');

$node->safe_psql('postgres', qq{
	INSERT INTO items SELECT s, $point FROM generate_series(3001, 3100) s, generate_series(1, 32) i GROUP BY s;
	ANALYZE items;
});
# taking a lock on another table processes the invalidation, which frees the
# index's cached state; allocations that follow reuse its memory
$session->query_safe('SELECT count(*) FROM other_1');
my $second = $session->query_safe('FETCH 3 FROM c');
is(scalar(split /\n/, $second), 3, 'the cursor returns as many rows after the invalidation');

# more invalidations, then a statement touching many tables, then the rest
$node->safe_psql('postgres', 'ANALYZE items');
$session->query_safe('SELECT ' . join(' + ', map { "(SELECT x FROM other_$_)" } 2 .. 20));
my $rest = $session->query_safe('FETCH ALL FROM c');
$session->query_safe('COMMIT');
$session->quit;
my @rest = split /\n/, $rest;
my %seen = map { $_ => 1 } (split(/\n/, $first), split(/\n/, $second), @rest);
cmp_ok(scalar(@rest), '>', 1900, 'FETCH ALL after more invalidations goes on through the index');
is(scalar(keys %seen), 6 + scalar(@rest), 'no row is returned twice');

ok($node->safe_psql('postgres', 'SELECT 1') eq '1', 'the server is still up');
$node->stop;
done_testing();
