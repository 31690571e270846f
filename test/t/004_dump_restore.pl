# pg_dump -Fc / pg_restore keep every fingerprint (issue 15, defect 3): a
# database with fingerprints stored under a raised sampleid.max_dimensions,
# declared and undeclared columns, an ivfpq index and a database-level setting
# restores under default settings with nothing lost, and the index answers the
# same.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION sampleid;
	ALTER DATABASE src SET ivfpq.probes = 7;
	CREATE TABLE wide (id int PRIMARY KEY, fp fingerprint);
	CREATE TABLE wide_declared (id int PRIMARY KEY, fp fingerprint(3000));
	CREATE TABLE seg (id int PRIMARY KEY, fp fingerprint(32));
	INSERT INTO seg
	SELECT s, fingerprint_normalize(array_agg(sin(s * 7 + i * 1.3) ORDER BY i)::fingerprint)
	FROM generate_series(1, 2000) s, generate_series(1, 32) i GROUP BY s;
	CREATE INDEX seg_fp ON seg USING ivfpq (fp) WITH (lists = 8, m = 4);
});
# values only a raised limit lets a cast make
$node->safe_psql('src', q{
	SET sampleid.max_dimensions = 4000;
	INSERT INTO wide SELECT 1, array_fill(0.5::real, ARRAY[3000])::fingerprint;
	INSERT INTO wide SELECT 2, array_fill(-1.25::real, ARRAY[4000])::fingerprint;
	INSERT INTO wide_declared SELECT 1, array_fill(0.25::real, ARRAY[3000])::fingerprint;
});

my $checksums = q{
	SELECT 'wide', count(*), md5(string_agg(fp::text, '|' ORDER BY id)) FROM wide
	UNION ALL SELECT 'wide_declared', count(*), md5(string_agg(fp::text, '|' ORDER BY id)) FROM wide_declared
	UNION ALL SELECT 'seg', count(*), md5(string_agg(fp::text, '|' ORDER BY id)) FROM seg
	ORDER BY 1};
# the ten nearest rows to five queries, through the index with every list probed
my $knn = q{
	SET enable_seqscan = off; SET ivfpq.probes = 8; SET ivfpq.rerank = 100;
	SELECT q.id, (SELECT string_agg(id::text, ',') FROM (
		SELECT id FROM seg ORDER BY fp <#> q.fp LIMIT 10) s)
	FROM seg q WHERE q.id IN (3, 50, 700, 1234, 1999) ORDER BY q.id};
my $before = $node->safe_psql('src', $checksums);
my $knn_before = $node->safe_psql('src', $knn);

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'ALTER DATABASE src RENAME TO src_old');
$node->command_ok([ 'pg_restore', '--create', '--exit-on-error', '-d', $node->connstr('postgres'), $dump ],
	'pg_restore under default settings, stopping at any error');

is($node->safe_psql('src', 'LOAD \'sampleid\'; SHOW sampleid.max_dimensions'), '2048', 'the restore ran at the default limit');
is($node->safe_psql('src', $checksums), $before, 'every fingerprint is restored bit for bit');
like($before, qr/^seg\|2000\|.*\nwide\|2\|.*\nwide_declared\|1\|/s, 'the source held what the test put in');
is($node->safe_psql('src', 'SHOW ivfpq.probes'), '7', 'the database-level setting is restored');
is($node->safe_psql('src', $knn), $knn_before, 'the restored index finds the same neighbours');
is($node->safe_psql('src', q{SELECT entries FROM ivfpq_check('seg_fp')}), '2000', 'ivfpq_check passes on the restored index');

# a plain-text dump replayed by psql works the same way
my $sql = $node->basedir . '/src.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('src_old'), '-f', $sql ], 'pg_dump as SQL');
$node->safe_psql('postgres', 'CREATE DATABASE src_sql');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('src_sql'), '-f', $sql ],
	'the SQL dump replays without error');
is($node->safe_psql('src_sql', $checksums), $before, 'the SQL dump restores every fingerprint');

$node->stop;
done_testing();
