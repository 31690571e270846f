# A soak of the SQL surface (issue 15): pgbench custom scripts on loopback,
# 4 writers ingesting fingerprints, a deleter, VACUUM and 2 readers at once
# for SAMPLEID_SOAK_SECONDS (60 in the suite; longer by hand, docs/testing.md);
# then, in one REPEATABLE READ snapshot with every list probed and rerank
# above the row count, the index's top-k equal the sequential scan's, and
# ivfpq_check passes.  Then kill -9 of a backend in the middle of inserts:
# after crash recovery every row committed before the kill is there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);

my $seconds = $ENV{SAMPLEID_SOAK_SECONDS} // 60;
my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\nrestart_after_crash = on");
$node->start;
my $dim = 16;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION sampleid;
	CREATE FUNCTION random_fp() RETURNS fingerprint LANGUAGE sql VOLATILE AS
		\$\$ SELECT fingerprint_normalize(array_agg(random() - 0.5)::fingerprint) FROM generate_series(1, $dim) \$\$;
	CREATE TABLE seg (id bigserial PRIMARY KEY, fp fingerprint($dim));
	INSERT INTO seg (fp) SELECT random_fp() FROM generate_series(1, 3000);
	CREATE INDEX seg_fp ON seg USING ivfpq (fp) WITH (lists = 16, m = 4);
});

my $dir = $node->basedir;
my %scripts = (
	writer => "INSERT INTO seg (fp) SELECT random_fp() FROM generate_series(1, 5);\n",
	deleter => "\\set id random(1, 100000)\nDELETE FROM seg WHERE id BETWEEN :id AND :id + 3;\n",
	vacuum => "VACUUM seg;\n\\sleep 2 s\n",
	# a slow INSERT (about 1 s of 500 rows) for the kill -9 phase
	slow_writer => "INSERT INTO seg (fp) SELECT random_fp() FROM generate_series(1, 500) g\n"
	  . "WHERE pg_sleep(0.002) IS NOT NULL;\n",
	reader => "SET ivfpq.probes = 4;\nSELECT count(*) FROM (SELECT id FROM seg ORDER BY fp <#> (SELECT random_fp()) LIMIT 20) s;\n",
);
my %clients = (writer => 4, deleter => 1, vacuum => 1, reader => 2);
# transactions per second, all clients together: the rows stay under what one
# rerank can cover (100000); readers and VACUUM run flat out
my %rate = (writer => 40, deleter => 20);
for my $name (keys %scripts)
{
	open(my $fh, '>', "$dir/$name.sql") or die;
	print $fh $scripts{$name};
	close $fh;
}

# every pgbench at once, each for $seconds
my @runs;
for my $name (sort keys %clients)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '--no-vacuum', '-n', "--client=$clients{$name}", "--time=$seconds",
			($rate{$name} ? ("--rate=$rate{$name}") : ()), '-f', "$dir/$name.sql", '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	push @runs, [ $name, $h, \$out, \$err ];
}
my %tx;
for my $r (@runs)
{
	my ($name, $h, $out, $err) = @$r;
	ok($h->finish, "pgbench $name ($clients{$name} clients, $seconds s) ends without error")
	  or diag($$err);
	($tx{$name}) = $$out =~ /number of transactions actually processed: (\d+)/;
	note("$name: " . ($tx{$name} // '?') . ' transactions');
}
cmp_ok($tx{writer} // 0, '>', 0, 'the writers committed rows');
cmp_ok($tx{reader} // 0, '>', 0, 'the readers ran queries');

# index = sequential scan, in one snapshot, for 20 random queries
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM seg');
note("$rows rows after the soak");
my $compare = qq{
	CREATE TEMP TABLE q AS SELECT g AS qid, random_fp() AS fp FROM generate_series(1, 20) g;
	BEGIN ISOLATION LEVEL REPEATABLE READ;
	SET LOCAL ivfpq.probes = 16;
	SET LOCAL ivfpq.rerank = } . ($rows + 1000) . qq{;
	SET LOCAL enable_seqscan = off;
	CREATE TEMP TABLE by_index AS SELECT q.qid, (SELECT array_agg(id) FROM (
		SELECT id FROM seg ORDER BY fp <#> q.fp LIMIT 10) s) AS ids FROM q;
	SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
	CREATE TEMP TABLE by_seq AS SELECT q.qid, (SELECT array_agg(id) FROM (
		SELECT id FROM seg ORDER BY fp <#> q.fp, id LIMIT 10) s) AS ids FROM q;
	COMMIT;
	SELECT count(*) FILTER (WHERE i.ids = s.ids), count(*) FROM by_index i JOIN by_seq s USING (qid);
};
is($node->safe_psql('postgres', $compare), '20|20', "the index's top 10 equal the sequential scan's for 20 queries");
is($node->safe_psql('postgres', q{SELECT entries >= (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	't', 'ivfpq_check passes after the soak');

# kill -9 of a backend mid-insert: writers run, a snapshot of committed ids is
# taken, then one inserting backend is killed; recovery keeps every snapshot row
my ($wout, $werr) = ('', '');
my $writers = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '-n', '--client=4', '--time=10', '-f', "$dir/slow_writer.sql",
		'-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$wout, '2>', \$werr);
sleep(3);
$node->safe_psql('postgres', 'CREATE TABLE committed AS SELECT id FROM seg');
my $victim = '';
for (1 .. 50)
{
	$victim = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO seg%pg_sleep%' AND state = 'active' LIMIT 1});
	last if $victim ne '';
	sleep(0.1);
}
ok($victim ne '', 'found a backend in the middle of an INSERT');
kill 'KILL', $victim if $victim ne '';
$writers->finish;
note('writers after the kill: ' . ($werr =~ /(\d+) of \d+ clients?|aborted/ ? 'aborted as expected' : 'ended'));
$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
like(slurp_file($node->logfile), qr/terminated by signal 9: Killed/, 'the kill made the server go through crash recovery');
is($node->safe_psql('postgres', 'SELECT count(*) FROM committed c LEFT JOIN seg s USING (id) WHERE s.id IS NULL'),
	'0', 'every row committed before the kill survives recovery');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM committed'), '>', 3000, 'the snapshot held soak rows');
is($node->safe_psql('postgres', q{SELECT entries >= (SELECT count(*) FROM seg) FROM ivfpq_check('seg_fp')}),
	't', 'ivfpq_check passes after crash recovery');
is($node->safe_psql('postgres', $compare), '20|20', 'and the index still equals the sequential scan');

$node->stop;
done_testing();
