# The upgrade path: a database made by the released 0.1 script and brought
# forward with ALTER EXTENSION sampleid UPDATE holds exactly the objects of a
# fresh CREATE EXTENSION, with the same definitions (functions' bodies,
# volatility, parallel safety and strictness, operators, operator classes,
# types, comments), and data stored under 0.1 keeps working.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $default = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'sampleid'});
my @installable = split /\n/, $node->safe_psql('postgres',
	q{SELECT version FROM pg_available_extension_versions WHERE name = 'sampleid' ORDER BY version});
ok((grep { $_ eq '0.1' } @installable), "the released 0.1 stays installable (have: @installable)");
isnt($default, '0.1', "the default version ($default) is past the release");

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('old', q{CREATE EXTENSION sampleid VERSION '0.1'});
$node->safe_psql('old', q{
	CREATE TABLE items (id int PRIMARY KEY, fp fingerprint(4));
	INSERT INTO items SELECT i, ARRAY[i, 1, 0, 0]::real[]::fingerprint(4) FROM generate_series(1, 50) i;
	CREATE INDEX items_fp ON items USING ivfpq (fp) WITH (lists = 2, m = 2);
});
$node->safe_psql('old', 'ALTER EXTENSION sampleid UPDATE');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'sampleid'}),
	$default, "ALTER EXTENSION UPDATE reaches $default");
$node->safe_psql('fresh', 'CREATE EXTENSION sampleid');

# One line per member object of the extension, with what defines it.
my $describe = q{
	SELECT regexp_replace(concat_ws(' | ',
		pg_describe_object(d.classid, d.objid, 0),
		CASE d.classid
		WHEN 'pg_proc'::regclass THEN
			(SELECT concat_ws(' ', pg_get_functiondef(p.oid), 'cost', p.procost, 'rows', p.prorows)
			 FROM pg_proc p WHERE p.oid = d.objid AND p.prokind <> 'a')
		WHEN 'pg_operator'::regclass THEN
			(SELECT concat_ws(' ', o.oprcode, o.oprcom::regoperator, o.oprrest, o.oprjoin)
			 FROM pg_operator o WHERE o.oid = d.objid)
		WHEN 'pg_type'::regclass THEN
			(SELECT concat_ws(' ', t.typinput, t.typoutput, t.typreceive, t.typsend,
				t.typmodin, t.typstorage, t.typalign)
			 FROM pg_type t WHERE t.oid = d.objid)
		END,
		obj_description(d.objid, d.classid::regclass::text::name)), '\s+', ' ', 'g')
	FROM pg_depend d
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sampleid')
	ORDER BY 1};
my $old = $node->safe_psql('old', $describe);
my $fresh = $node->safe_psql('fresh', $describe);
my %old = map { $_ => 1 } split /\n/, $old;
my %fresh = map { $_ => 1 } split /\n/, $fresh;
my @missing = grep { !$old{$_} } sort keys %fresh;
my @extra = grep { !$fresh{$_} } sort keys %old;
ok(scalar(keys %fresh) > 20, 'the fresh extension has its objects (' . scalar(keys %fresh) . ')');
is(join("\n", @missing), '', 'nothing of a fresh install is missing or different after the upgrade');
is(join("\n", @extra), '', 'the upgrade leaves nothing that a fresh install lacks');

# The index built under 0.1 still answers after the update.
is($node->safe_psql('old', q{
	SET enable_seqscan = off;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM items ORDER BY fp <#> '[50,1,0,0]' LIMIT 3) s}),
	'50,49,48', 'an ivfpq index built under 0.1 answers after the update');

$node->stop;
done_testing();
