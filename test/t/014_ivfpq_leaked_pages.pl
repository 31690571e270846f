# Pages a crash leaves unlinked are reused, and a corrupt metapage is an
# ERROR, not a crash (issue 13).
#
# A backend killed with SIGKILL in the middle of a transaction of inserts
# leaves the blocks it extended the index with as zeros on disk: the WAL that
# would have linked them was never flushed.  VACUUM records them in the free
# space map and later inserts use them before extending the relation.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use IvfpqTestData;

my $node = PostgreSQL::Test::Cluster->new('ivfpq_leak');
$node->init;
# WAL stays in memory long enough for the kill to lose it
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'sampleid'
wal_writer_delay = 10s
wal_buffers = 64MB
checkpoint_timeout = 1h
max_wal_size = 4GB
autovacuum = off
restart_after_crash = on
});
$node->start;

my $point = ivfpq_point();
create_ivfpq_table($node, 'seg');
$node->safe_psql('postgres', 'CHECKPOINT');

my $session = $node->background_psql('postgres');
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_safe(qq{
	BEGIN;
	INSERT INTO seg SELECT s, $point FROM generate_series(10001, 16000) s, generate_series(1, 32) i GROUP BY s;
});
kill 'KILL', $pid;
$session->{run}->kill_kill;
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'no restart';

my ($unreached) = $node->safe_psql('postgres', 'SELECT unreached_pages FROM ivfpq_check(\'seg_fp\')');
cmp_ok($unreached, '>', 0, 'the crash left unlinked pages');
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('seg_fp')});

$node->safe_psql('postgres', 'VACUUM seg');
# fewer rows than were lost: they fit in the reclaimed pages
$node->safe_psql('postgres', qq{
	INSERT INTO seg SELECT s, $point FROM generate_series(20001, 21000) s, generate_series(1, 32) i GROUP BY s;
});
is($node->safe_psql('postgres', q{SELECT pg_relation_size('seg_fp')}), $size,
	'inserts after VACUUM reuse the unlinked pages instead of extending');
my ($after) = $node->safe_psql('postgres', 'SELECT unreached_pages FROM ivfpq_check(\'seg_fp\')');
cmp_ok($after, '<', $unreached, 'fewer pages are unreached once reused');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 0;
	SELECT count(*) = count(DISTINCT id) AND count(*) = (SELECT count(*) FROM seg)
	FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1)) s}),
	't', 'every live row reachable exactly once');

# a metapage that says trained with m = 0: ERROR index_corrupted, no crash
my $file = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('seg_fp')});
$node->stop;
{
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	# page header (24 bytes), then magic, version, dim, metric, lists, m
	seek($fh, 24 + 20, 0) or die;
	print $fh pack('l', 0);
	close $fh;
}
$node->start;
my ($rc, $stdout, $stderr) = $node->psql('postgres', q{
	\set VERBOSITY verbose
	SET enable_seqscan = off;
	SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1) LIMIT 1});
like($stderr, qr/XX002: ivfpq index "seg_fp" has an invalid metapage/,
	'a corrupt metapage is index_corrupted');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->safe_psql('postgres', 'REINDEX INDEX seg_fp');
is($node->safe_psql('postgres', q{SELECT lists FROM ivfpq_check('seg_fp')}), '8', 'REINDEX mends it');

# an index of release 0.1's layout (version 1: one IndexTuple per entry):
# scans, inserts and VACUUM all stop with an ERROR and a HINT to REINDEX
$file = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('seg_fp')});
$node->stop;
{
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	# page header (24 bytes), then magic, version
	seek($fh, 24 + 4, 0) or die;
	print $fh pack('L', 1);
	close $fh;
}
$node->start;
my %version1 = (
	'a scan' => q{SET enable_seqscan = off;
		SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1) LIMIT 1},
	'an insert' => qq{INSERT INTO seg SELECT s, $point FROM generate_series(30001, 30001) s, generate_series(1, 32) i GROUP BY s},
	'VACUUM' => q{DELETE FROM seg WHERE id = 1; VACUUM seg});
for my $what (sort keys %version1)
{
	($rc, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$version1{$what}");
	like($stderr,
		qr/XX002: ivfpq index "seg_fp" has version 1, this build reads version 2.*\n.*HINT:  REINDEX the index/,
		"$what on a version-1 index asks for REINDEX");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->safe_psql('postgres', 'REINDEX INDEX seg_fp');
is($node->safe_psql('postgres', q{SELECT lists FROM ivfpq_check('seg_fp')}), '8', 'and REINDEX mends it');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 0;
	SELECT count(*) = (SELECT count(*) FROM seg)
	FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1)) s}),
	't', 'the rebuilt index reaches every row');


# a data page whose payload and TID arrays disagree (pd_lower one byte off):
# ERROR index_corrupted from the scan and from ivfpq_check, no crash
$file = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('seg_fp')});
$node->stop;
{
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	my $last = (-s $file) - 8192;	# the last block: a data page
	my $lower;
	seek($fh, $last + 12, 0) or die;
	read($fh, $lower, 2) == 2 or die;
	seek($fh, $last + 12, 0) or die;
	print $fh pack('S', unpack('S', $lower) + 1);
	close $fh;
}
$node->start;
($rc, $stdout, $stderr) = $node->psql('postgres', q{
	\set VERBOSITY verbose
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 0;
	SELECT count(*) FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT fp FROM seg LIMIT 1)) s});
like($stderr, qr/XX002: ivfpq index "seg_fp" has a malformed data page at block \d+/,
	'a scan of a damaged data page is index_corrupted');
($rc, $stdout, $stderr) = $node->psql('postgres', q{\set VERBOSITY verbose
	SELECT * FROM ivfpq_check('seg_fp')});
like($stderr, qr/XX002: ivfpq index "seg_fp" is corrupted\n.*block \d+ is not a data page of this index's entry size/,
	'ivfpq_check reports the damaged data page');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->safe_psql('postgres', 'REINDEX INDEX seg_fp');
is($node->safe_psql('postgres', q{SELECT entries FROM ivfpq_check('seg_fp')}),
	$node->safe_psql('postgres', 'SELECT count(*) FROM seg'), 'REINDEX mends it');

$node->stop;
done_testing();
