# What several ivfpq TAP tests share: a table of 2000 clustered, deterministic
# 32-d fingerprints (8 centres plus structured noise) with an ivfpq index of 8
# lists (small lists fill pages quickly, so inserts extend chains), and a
# primary with a streaming standby.
package IvfpqTestData;
use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
our @EXPORT = qw(ivfpq_point create_ivfpq_table ivfpq_primary_and_standby create_refined_copy);

# the SQL expression of row s's fingerprint, aggregated over i in 1..32
sub ivfpq_point
{
	return q{fingerprint_normalize(array_agg(sin((s % 8) * 11 + i * 0.5) + 0.4 * sin(s * i * 0.91) ORDER BY i)::fingerprint)};
}

# creates the extension (if needed), TABLE (id, fp) with rows 1..2000 and
# its index TABLE_fp
sub create_ivfpq_table
{
	my ($node, $table) = @_;
	my $point = ivfpq_point();
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION IF NOT EXISTS sampleid;
		CREATE TABLE $table (id int PRIMARY KEY, fp fingerprint(32));
		INSERT INTO $table SELECT s, $point FROM generate_series(1, 2000) s, generate_series(1, 32) i GROUP BY s;
		CREATE INDEX ${table}_fp ON $table USING ivfpq (fp) WITH (lists = 8, m = 8);
	});
}

# RTABLE (id, fp), a copy of TABLE's rows (id int, fp fingerprint(DIM)) with
# an ivfpq index RTABLE_fp with refine codes (WITH OPTIONS, refine = sq8),
# lived in: built on the rows up to id BUILT, the others inserted after it,
# the rows with id % GAP = 0 deleted, VACUUM, and those rows inserted again
# (id + 10000) into the freed refine slots
sub create_refined_copy
{
	my ($node, $table, $rtable, $dim, $options, $built, $gap) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $rtable (id int PRIMARY KEY, fp fingerprint($dim));
		INSERT INTO $rtable SELECT * FROM $table WHERE id <= $built;
		CREATE INDEX ${rtable}_fp ON $rtable USING ivfpq (fp) WITH ($options, refine = sq8);
		INSERT INTO $rtable SELECT * FROM $table WHERE id > $built;
		DELETE FROM $rtable WHERE id % $gap = 0;
		VACUUM $rtable;
		INSERT INTO $rtable SELECT id + 10000, fp FROM $table WHERE id % $gap = 0;
	});
}

# a started primary NAME with the extension and autovacuum off (only a
# test's own VACUUMs train an index), and a streaming standby NAME_standby
# with extra postgresql.conf lines; returns both
sub ivfpq_primary_and_standby
{
	my ($name, $standby_conf) = @_;
	my $primary = PostgreSQL::Test::Cluster->new($name);
	$primary->init(allows_streaming => 1);
	$primary->append_conf('postgresql.conf', "autovacuum = off\n");
	$primary->start;
	$primary->safe_psql('postgres', 'CREATE EXTENSION sampleid');
	$primary->backup('base');
	my $standby = PostgreSQL::Test::Cluster->new("${name}_standby");
	$standby->init_from_backup($primary, 'base', has_streaming => 1);
	$standby->append_conf('postgresql.conf', $standby_conf) if $standby_conf;
	$standby->start;
	return ($primary, $standby);
}

1;
