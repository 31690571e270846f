# Fingerprints survive a crash (immediate stop + WAL replay) and reach a
# streaming standby bit for bit; COPY BINARY round-trips them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION sampleid');
$primary->safe_psql('postgres', q{
	CREATE TABLE segments (id int PRIMARY KEY, fp fingerprint(128));
	INSERT INTO segments
	SELECT s, fingerprint_normalize(array_agg(sin(s * 7 + i) ORDER BY i)::fingerprint)
	FROM generate_series(1, 2000) s, generate_series(1, 128) i GROUP BY s;
});
my $checksum_sql = q{SELECT md5(string_agg(fp::text, '|' ORDER BY id)) FROM segments};
my $before = $primary->safe_psql('postgres', $checksum_sql);

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# more rows after the base backup travel by streaming replication
$primary->safe_psql('postgres', q{
	INSERT INTO segments
	SELECT s, fingerprint_normalize(array_agg(cos(s * 3 + i) ORDER BY i)::fingerprint)
	FROM generate_series(2001, 2500) s, generate_series(1, 128) i GROUP BY s;
});
my $after = $primary->safe_psql('postgres', $checksum_sql);
isnt($after, $before, 'new rows change the checksum');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $checksum_sql), $after, 'standby has the same fingerprints');

$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $checksum_sql), $after, 'fingerprints survive a crash');

my $file = $primary->basedir . '/segments.bin';
$primary->safe_psql('postgres', qq{
	COPY segments TO '$file' WITH (FORMAT binary);
	CREATE TABLE segments_copy (LIKE segments);
	COPY segments_copy FROM '$file' WITH (FORMAT binary);
});
is($primary->safe_psql('postgres',
	q{SELECT count(*) FROM segments s JOIN segments_copy c USING (id) WHERE s.fp = c.fp}),
	'2500', 'COPY BINARY round-trips every fingerprint');

is($primary->safe_psql('postgres',
	q{SELECT count(*) FROM segments WHERE abs(fingerprint_norm(fp) - 1) > 1e-6}),
	'0', 'stored fingerprints keep unit norm');

$standby->stop;
$primary->stop;
done_testing();
